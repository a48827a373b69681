"""A development SMS gateway: an HTTP endpoint that accepts Frappe's SMS Settings requests
and appends each message to a log file instead of sending it to a phone network.

`./dms up` runs it (Procfile `sms`) on 127.0.0.1:2526 and the demo data points SMS Settings at
it, so demo confirmations, reminders and pickup messages can be read in logs/sms.log.
Production dealers point SMS Settings at their real gateway.

    python -m aftersales_dms.utils.sms_sink --port 2526 --log logs/sms.log
"""

import argparse
import json
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def make_handler(log_path: str):
	class Handler(BaseHTTPRequestHandler):
		def _record(self, params: dict):
			entry = {
				"at": datetime.now().isoformat(timespec="seconds"),
				**{k: v[0] for k, v in params.items()},
			}
			with open(log_path, "a") as f:
				f.write(json.dumps(entry, ensure_ascii=False) + "\n")
			self.send_response(200)
			self.send_header("Content-Type", "application/json")
			self.end_headers()
			self.wfile.write(b'{"status": "accepted"}')

		def do_GET(self):
			self._record(parse_qs(urlparse(self.path).query))

		def do_POST(self):
			length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
			self._record(parse_qs(self.rfile.read(length).decode("utf-8", "replace")))

		def log_message(self, *args):
			pass

	return Handler


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--host", default="127.0.0.1")
	parser.add_argument("--port", type=int, default=2526)
	parser.add_argument("--log", default="logs/sms.log")
	args = parser.parse_args()
	ThreadingHTTPServer((args.host, args.port), make_handler(args.log)).serve_forever()


if __name__ == "__main__":
	main()
