"""nginx for the end-to-end tests: one foreground process (no master), its
config and files in a temporary directory, on a free loopback port."""
import socket
import subprocess
import time
from pathlib import Path

NGINX = "/usr/sbin/nginx"

CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 10000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port}{ssl};
        {tls}
        root {d}/www;
        location /sendfile/ {{ sendfile on; }}
        location /copy/ {{ sendfile off; }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, workdir, files, tls=None, http2=False):
        """tls=(cert, key): HTTPS."""
        self.dir = Path(workdir)
        for name, data in files.items():
            p = self.dir / "www" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        self.port = free_port()
        conf = self.dir / "nginx.conf"
        tls_conf = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
        listen_opts = (" ssl" if tls else "") + (" http2" if http2 else "")
        conf.write_text(CONF.format(d=self.dir, port=self.port, ssl=listen_opts, tls=tls_conf))
        self.proc = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not start: {self.proc.stderr.read()}")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
