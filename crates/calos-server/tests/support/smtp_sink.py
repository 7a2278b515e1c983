#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd).

Usage: smtp_sink.py OUTPUT_FILE
Listens on 127.0.0.1 on a free port, prints the port on its first line of
stdout, and appends every message it receives to OUTPUT_FILE as one JSON
line: from, to, subject, messageId, text and html parts.
"""

import asyncio
import json
import sys
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        text = html = ""
        for part in msg.walk():
            kind = part.get_content_type()
            if kind == "text/plain":
                text = part.get_content()
            elif kind == "text/html":
                html = part.get_content()
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "messageId": str(msg["message-id"]),
            "text": text,
            "html": html,
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 OK"


async def main():
    sink = Sink(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
