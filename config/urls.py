from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from alliance import apis as alliance_apis
from evaluation import apis as evaluation_apis
from funding import apis as funding_apis
from staffing import apis as staffing_apis

router = DefaultRouter()
for module in (alliance_apis, staffing_apis, funding_apis, evaluation_apis):
    module.register(router)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # POST username + password -> {"token": ...}; failures count towards the axes lockout.
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    # Session login/logout for the browsable API (logout is a POST).
    path("api/auth/", include("rest_framework.urls")),
    # The principal's earlier result page (公示), kept at its address.
    path("", include("evaluation.urls")),
    path("admin/", admin.site.urls),
    # The portal: "/" is each role's home, and /login/ and /logout/ serve every role.
    path("", include("portal.urls")),
]
if settings.DEBUG:
    # settings.MEDIA_URL reads back as "/media/"; a route must not start with a slash.
    media = settings.MEDIA_URL.lstrip("/")
    urlpatterns.insert(0, path(f"{media}<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
