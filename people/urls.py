from rest_framework.routers import SimpleRouter

from people import api

router = SimpleRouter()
router.register("people", api.PersonViewSet, basename="person")

urlpatterns = router.urls
