"""乡呼县应 response platform: calls from townships to county departments, the 黄陂 two-way
dispatch, deadlines on the working calendar, 督办, ratings and the period's 考评.

Policy is data (rules/platform.yaml, rules/response-profiles.yaml, rules/assessment.yaml); the
state of a call is derived from its append-only event log (store.py)."""
