"""An OpenAI-compatible chat server that 'generates' real VitaminC pairs: the control for where
held-out real data lands among the synth pool's gradient clusters. A draft request gets the next
held-out pair (by the request's seed, in order of first sight) as one <example> block; a
labelling request gets the gold label of the pair it shows. Usage: PYTHON real_pairs_server.py
VITAMINC_PARQUET PORT (needs pyarrow)."""
import json, random, sys, re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import pyarrow.parquet as pq

rows = pq.read_table(sys.argv[1]).to_pylist()
rng = random.Random(20261204)
by_page = {}
for r in rows:
    by_page.setdefault(r['group'], []).append(r)
pages = sorted(by_page)
rng.shuffle(pages)
held = [rng.choice(by_page[p]) for p in pages[:400]]
gold = {(r['premise'].strip(), r['hypothesis'].strip()): r['label'] for r in held}
next_by_seed = {}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        # Readiness probe: touches no state, so the pairs served depend only on the requests.
        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        last = body['messages'][-1]['content']
        if last.startswith('Write '):
            seed = body.get('seed')
            if seed not in next_by_seed:
                next_by_seed[seed] = len(next_by_seed)
            r = held[next_by_seed[seed] % len(held)]
            text = f"<example>\nPremise: {r['premise']}\nHypothesis: {r['hypothesis']}\nLabel: {r['label']}\n</example>"
        else:
            p = re.search(r'^Premise: (.*)$', last, re.M); h = re.search(r'^Hypothesis: (.*)$', last, re.M)
            key = (p.group(1).strip(), h.group(1).strip()) if p and h else None
            text = gold.get(key, 'unknown')
        out = json.dumps({"id": "x", "object": "chat.completion", "model": body.get('model'),
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(out))); self.end_headers(); self.wfile.write(out)

ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()
