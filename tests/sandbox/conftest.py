import pytest
from programs import ATTACKS


@pytest.fixture
def attacks(sandbox):
    """A session of ATTACKS in the module's sandbox, closed after the test."""
    session = sandbox.session([ATTACKS], "read")
    yield session
    session.close()
