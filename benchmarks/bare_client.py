"""The bare client for comparison: stream one reply with the `ollama` library and print it as it comes.

What `ollama run` does in a terminal, as a floor for what displaying a stream can cost:
`bench_stream.py` runs it in the same pty, against the same server and reply, as the app.

    python benchmarks/bare_client.py URL MODEL
"""

from __future__ import annotations

import sys

import ollama


def main() -> None:
    url, model = sys.argv[1], sys.argv[2]
    client = ollama.Client(host=url)
    out = sys.stdout
    for chunk in client.chat(model, messages=[{"role": "user", "content": "benchmark prompt"}], stream=True, think=True):
        message = chunk.message
        text = (message.thinking or "") + (message.content or "")
        if text:
            out.write(text)
            out.flush()
    out.write("\nBARE-CLIENT-DONE\n")
    out.flush()


if __name__ == "__main__":
    main()
