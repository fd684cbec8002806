"""ASGI entry point. Like the WSGI one, it refuses to start with keys that cannot open the data."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from encryption.sentinels import require_usable_keys  # noqa: E402  (needs the apps loaded)

require_usable_keys()
