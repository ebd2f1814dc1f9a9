"""django-oauth-toolkit as a real provider for the integration tests, the way a Django site
serves it: Django's own login form, the toolkit's consent page ("Authorize" / "Cancel"), its
OpenID discovery document (no revocation or introspection endpoint) beside its RFC 8414
document (which lists both), opaque access tokens, rotating refresh tokens.

Usage: .venv/bin/python server.py
Serves on a free loopback port (waitress), its database a new SQLite file in a temporary
folder, with the test user and applications below; prints one JSON line
{"issuer": "...", "port": N} on stdout once it listens, and exits when its standard input
closes, so a test that dies never leaves it behind.
"""

import json
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

import django
from django.conf import settings
from django.urls import include, path

HERE = Path(__file__).resolve().parent

# The test user, and the applications (client_id, secret, client type).
USER = ("alice", "alice-password-123")
CONFIDENTIAL = ("dot-confidential", "dot-confidential-secret-0123456789")
PUBLIC = "dot-public"
# RFC 8252 section 7.3: any port on a loopback redirect URI (ALLOW_LOCALHOST_LOOPBACK below
# extends it to "localhost", which the tool uses by default).
REDIRECT_URIS = "http://localhost/oauth_callback http://127.0.0.1/oauth_callback"

# Set once Django is configured (ROOT_URLCONF is this module).
urlpatterns = []


def rsa_key_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def configure(issuer, database):
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.urandom(32).hex(),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(HERE / "templates")],
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": database}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGIN_URL="/accounts/login/",
        USE_TZ=True,
        OAUTH2_PROVIDER={
            "OIDC_ENABLED": True,
            "OIDC_RSA_PRIVATE_KEY": rsa_key_pem(),
            "OIDC_ISS_ENDPOINT": issuer,
            "PKCE_REQUIRED": True,
            "ALLOW_LOCALHOST_LOOPBACK": True,
            "SCOPES": {
                "openid": "OpenID Connect",
                "profile": "Your profile",
                "email": "Your email address",
                "read": "Read",
            },
            "DEFAULT_SCOPES": ["openid"],
        },
    )


def seed():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user(
        USER[0], email="alice@example.com", password=USER[1]
    )
    Application = get_application_model()
    common = dict(
        user=user,
        redirect_uris=REDIRECT_URIS,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    Application.objects.create(
        name="oauth-test-client (confidential)",
        client_id=CONFIDENTIAL[0],
        client_secret=CONFIDENTIAL[1],
        client_type=Application.CLIENT_CONFIDENTIAL,
        **common,
    )
    Application.objects.create(
        name="oauth-test-client (public)",
        client_id=PUBLIC,
        client_secret="",
        client_type=Application.CLIENT_PUBLIC,
        **common,
    )


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    issuer = f"http://127.0.0.1:{port}"
    folder = tempfile.mkdtemp(prefix="dot-provider-")
    configure(issuer, os.path.join(folder, "db.sqlite3"))
    django.setup()
    urlpatterns.extend(
        [
            path("accounts/", include("django.contrib.auth.urls")),
            path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
        ]
    )
    seed()
    from django.core.wsgi import get_wsgi_application
    from waitress import serve

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(json.dumps({"issuer": issuer, "port": port}), flush=True)
    serve(get_wsgi_application(), sockets=[sock], threads=4, _quiet=True)


if __name__ == "__main__":
    main()
