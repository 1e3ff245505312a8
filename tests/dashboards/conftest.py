from tests.feedback.conftest import clock, media, world  # noqa: F401  (the feedback tests' world)
from tests.feedback.test_metrics import example  # noqa: F401  (docs/metrics.md's worked example)
