"""nbgrader configuration for students of the course `cnn-numpy`.

Put this file in the folder you start Jupyter from (or in ~/.jupyter/). It tells nbgrader which
course you take and where your instructor's exchange is, so that the Assignments tab (or
`nbgrader fetch_assignment conv_step_by_step` and `nbgrader submit conv_step_by_step`) can fetch
and hand in the assignments. Your instructor tells you the exchange's path if it is not the
server's default; set it in NBGRADER_EXCHANGE, or write it below.
"""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cnn-numpy"  # the instructor's c.CourseDirectory.course_id
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")  # nbgrader's default
