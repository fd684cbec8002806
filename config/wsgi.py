"""WSGI entry point (gunicorn config.wsgi; runserver loads it too).

The server refuses to start when the configured encryption keys cannot open the stored data
(naming the key id), before it serves a request or writes anything. A worker booting while the
database is unreachable runs that check before its first request instead (common/wsgi.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# Both need the apps loaded.
from common.wsgi import checked_before_serving  # noqa: E402
from encryption.sentinels import require_usable_keys  # noqa: E402

application = checked_before_serving(django_application, require_usable_keys)
