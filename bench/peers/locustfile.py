# Locust's side of the benchmark: the same scenario as the Loads TestCase (one GET of / and one
# check that the body holds the marker), with no wait between tasks. Pick the class on the
# command line: HttpScenario (requests) or FastHttpScenario (geventhttpclient).
from locust import FastHttpUser, HttpUser, constant, task

MARKER = "loads-bench-ok"


class HttpScenario(HttpUser):
    wait_time = constant(0)

    @task
    def get_index(self):
        with self.client.get("/", catch_response=True) as res:
            if MARKER not in res.text:
                res.failure("marker not found")


class FastHttpScenario(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_index(self):
        with self.client.get("/", catch_response=True) as res:
            if MARKER not in res.text:
                res.failure("marker not found")
