"""Loopback fakes of remote services (the model endpoint, …) for tests, the console and benchmarks.

Each serves real HTTP on 127.0.0.1 and imports nothing of ours: the code under test talks to
it through its real client, with only the base URL pointed here.
"""
