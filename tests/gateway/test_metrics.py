"""Prometheus exposition of genesisd, checked with a real parser (Debian's
python3-prometheus-client): genesis_requests_total by component, outcome and reason, the
per-component latency histogram, process_* and genesis_build_info; HEAD on the GET routes;
and --metrics serving the metrics on an address of their own with the gateway off."""
import re
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

import gwtest
from gwtest import curl, post_json


def parse(text):
    """Families by name; fails on a line the parser rejects or a sample given twice."""
    families = {}
    seen = set()
    for fam in text_string_to_metric_families(text):
        families[fam.name] = fam
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in seen, "sample given twice: %r" % (key,)
            seen.add(key)
    return families


def samples(fam, name=None, **labels):
    return [s for s in fam.samples if (name is None or s.name == name) and
            all(s.labels.get(k) == v for k, v in labels.items())]


class Metrics(gwtest.GatewayCase):
    def traffic(self):
        for _ in range(5):
            st, _, body = post_json(self.url + "/v1/components/comp1/request", {"type": "ping"})
            self.assertEqual(st, 200, body)
        st, _, body = post_json(self.url + "/v1/admin/components/comp2/breaker", {"state": "open"})
        self.assertEqual(st, 200, body)
        st, _, body = post_json(self.url + "/v1/components/comp2/request", {"type": "ping"})
        self.assertEqual(st, 503, body)
        post_json(self.url + "/v1/admin/components/comp2/breaker", {"state": "reset"})

    def test_exposition_parses_with_outcomes_reasons_and_histograms(self):
        self.traffic()
        st, hdrs, body = curl(self.url + "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))
        fams = parse(body.decode())

        req = fams["genesis_requests"]  # the parser names counter families without _total
        self.assertEqual(req.type, "counter")
        ok = samples(req, component="comp1", outcome="success", reason="NONE")
        self.assertEqual(len(ok), 1)
        self.assertGreaterEqual(ok[0].value, 5)
        rejected = samples(req, component="comp2", outcome="rejected", reason="BREAKER_OPEN")
        self.assertEqual([s.value for s in rejected], [1.0], "an alert can name BREAKER_OPEN")

        hist = fams["genesis_request_duration_seconds"]
        self.assertEqual(hist.type, "histogram")
        buckets = samples(hist, "genesis_request_duration_seconds_bucket", component="comp1")
        counts = [s.value for s in buckets]
        self.assertEqual(counts, sorted(counts), "buckets are cumulative")
        self.assertEqual(buckets[-1].labels["le"], "+Inf")
        count = samples(hist, "genesis_request_duration_seconds_count", component="comp1")[0]
        self.assertEqual(count.value, counts[-1])
        self.assertGreaterEqual(count.value, 5)
        total = samples(hist, "genesis_request_duration_seconds_sum", component="comp1")[0]
        self.assertGreater(total.value, 0)

        for name in ("process_cpu_seconds", "process_resident_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            self.assertIn(name, fams, name)
        self.assertGreater(fams["process_open_fds"].samples[0].value, 0)
        started = fams["process_start_time_seconds"].samples[0].value
        self.assertLess(abs(started - time.time()), 3600, "a start time on the wall clock")
        info = fams["genesis_build_info"].samples[0]
        self.assertEqual(info.value, 1)
        self.assertRegex(info.labels["version"], r"^\d+\.\d+\.\d+")
        self.assertEqual(fams["genesis_up"].samples[0].value, 1)

    def test_head_on_every_get_route(self):
        for route in ("/metrics", "/healthz", "/readyz", "/v1/status", "/v1/status/history",
                      "/v1/status/policies", "/", "/ui/app.js"):
            st, hdrs, body = curl(self.url + route, "-I")
            self.assertEqual(st, 200, route)
            self.assertEqual(body.strip(), b"", route)  # curl -I ends the headers with a blank line
            self.assertGreater(int(hdrs["content-length"]), 0, route)
        st, hdrs, _ = curl(self.url + "/ui/app.js", "-I")
        self.assertEqual(int(hdrs["content-length"]),
                         len(curl(self.url + "/ui/app.js")[2]), "HEAD's length is the GET's")
        self.assertEqual(curl(self.url + "/v1/admin/mode", "-I")[0], 405, "POST routes take no HEAD")


class MetricsWithGatewayOff(gwtest.GatewayCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="genesis-gw-")
        cls.procs = []
        try:
            p = cls.spawn([gwtest.PATHS["genesisd"], "--demo", "--front-door", "tcp://127.0.0.1:0",
                           "--events", "tcp://127.0.0.1:0", "--http", "off", "--metrics",
                           "127.0.0.1:0", "--log-level", "warn"], "genesisd")
            line = p.wait_line("ready ")
            assert " http=" not in line, line
            p.url = re.search(r" metrics=(\S+)", line).group(1)
            cls.daemon = p
        except Exception:
            cls.cleanup()
            raise

    def test_metrics_only_address(self):
        st, _, body = curl(self.url + "/metrics")
        self.assertEqual(st, 200)
        fams = parse(body.decode())
        self.assertEqual(fams["genesis_up"].samples[0].value, 1)
        self.assertTrue(samples(fams["genesis_requests"], component="comp1"))
        self.assertIn("process_resident_memory_bytes", fams)
        self.assertEqual(curl(self.url + "/metrics", "-I")[0], 200)
        self.assertEqual(curl(self.url + "/healthz")[0], 200)
        self.assertEqual(curl(self.url + "/readyz")[0], 200)
        for route in ("/v1/status", "/", "/v1/status/history"):
            self.assertEqual(curl(self.url + route)[0], 404, route)
        st, _, _ = post_json(self.url + "/v1/components/comp1/request", {"type": "ping"})
        self.assertEqual(st, 404, "no requests on the metrics address")


if __name__ == "__main__":
    gwtest.main(sys.argv)
