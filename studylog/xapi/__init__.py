"""xAPI (Experience API 1.0.3, with 2.0.0 headers accepted), pure Python.

No Django and no project app: statement building, validation and the forwarder's batch
decisions take their inputs (times, ids, configuration) as arguments, so that they can be
tested on their own and reused by the LRS endpoint and the forwarder.
"""
