"""A real SMTP server for Wharf's email notifier tests (aiosmtpd), on 127.0.0.1.

Every message it accepts is written to OUT/<n>.json: the envelope sender and recipients, whether the
session used TLS, the login it authenticated with, and the message as received (after the
server removed the dot-stuffing). Prints "READY <port>" on stdout once it listens, then serves
until its stdin closes (the test that started it ended) or it gets SIGTERM.

    smtp_sink.py --out DIR [--port N] [--user U --password P] [--starttls | --tls] [--cert-dir DIR]
    smtp_sink.py --silent [--port N]     # accepts TCP connections and never answers

With --starttls or --tls it makes a self-signed certificate for 127.0.0.1 and localhost with the
openssl command (CERT_DIR/cert.pem, which clients can trust as their CA). With --user, AUTH is
offered only after STARTTLS with --starttls, and from the start otherwise.
"""

import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(directory):
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class Recorder:
    """The aiosmtpd handler: one JSON file per accepted message."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", errors="replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # session.ssl is set by STARTTLS; an implicit TLS transport has an ssl_object.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "login": login,
            "content": content,
        }
        path = os.path.join(self.directory, "%04d.json" % number)
        with open(path + ".tmp", "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.rename(path + ".tmp", path)
        return "250 OK stored as %04d" % number


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--out", help="where received messages go")
    parser.add_argument("--user")
    parser.add_argument("--password")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--starttls", action="store_true", help="offer STARTTLS and require it before MAIL")
    tls.add_argument("--tls", action="store_true", help="implicit TLS from the first byte")
    parser.add_argument("--cert-dir", help="where the self-signed certificate goes (default: OUT)")
    parser.add_argument("--silent", action="store_true", help="listen, never answer")
    args = parser.parse_args()

    port = args.port or free_port()
    if args.silent:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(16)
        print("READY %d" % port, flush=True)
        sys.stdin.read()
        return

    if not args.out:
        parser.error("--out is required")
    os.makedirs(args.out, exist_ok=True)
    context = make_certificate(args.cert_dir or args.out) if (args.starttls or args.tls) else None

    smtp_options = {"server_hostname": "wharf-smtp-sink"}
    if args.starttls:
        smtp_options.update(tls_context=context, require_starttls=True)
    if args.user is not None:
        expected = (args.user.encode(), (args.password or "").encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == expected:
                return AuthResult(success=True, auth_data=auth_data)
            # handled=False: aiosmtpd answers "535 5.7.8 Authentication credentials invalid".
            return AuthResult(success=False, handled=False)

        smtp_options.update(authenticator=authenticator, auth_required=True,
                            # With --tls the whole session is encrypted, but aiosmtpd only counts
                            # STARTTLS as TLS for this check.
                            auth_require_tls=bool(args.starttls))
    controller = Controller(Recorder(args.out), hostname="127.0.0.1", port=port,
                            ssl_context=context if args.tls else None, **smtp_options)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
