"""WSGI entry point (gunicorn config.wsgi; runserver loads it too).

The server refuses to start when the configured encryption keys cannot open the stored data
(naming the key id), before it serves a request or writes anything.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from encryption.sentinels import require_usable_keys  # noqa: E402  (needs the apps loaded)

require_usable_keys()
