from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings

from alliance import apis as alliance_apis
from alliance.uploads import serve_upload
from config import errors
from evaluation import apis as evaluation_apis
from funding import apis as funding_apis
from staffing import apis as staffing_apis

router = DefaultRouter()
for module in (alliance_apis, staffing_apis, funding_apis, evaluation_apis):
    module.register(router)


_swagger = SpectacularSwaggerSplitView.as_view(url_name="schema")


# Swagger UI's page has an inline <style> and data: images: the one CSP exception, on this page
# only (its script comes from ?script, not inline).
@csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})
def api_docs(request: HttpRequest, *args, **kwargs):
    if not settings.DEBUG and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger(request, *args, **kwargs)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
    # POST username + password -> {"token": ...}; failures count towards the axes lockout.
    # Its own parsers would bypass the bounded JSON parser (REST_FRAMEWORK's default).
    path(
        "api/auth/token/", ObtainAuthToken.as_view(parser_classes=api_settings.DEFAULT_PARSER_CLASSES), name="api-token"
    ),
    # Session login/logout for the browsable API (logout is a POST).
    path("api/auth/", include("rest_framework.urls")),
    # Any other /api/ path is a JSON 404 (the admin's catch-all below would redirect to a login).
    re_path(r"^api/", errors.api_not_found),
    # Uploaded files, only through the access checkpoint (alliance.uploads); no public /media/.
    path("files/<str:label>/<int:pk>/<str:field>/", serve_upload, name="upload"),
    # The principal's result page (公示); before the admin, whose catch-all would take it.
    path("", include("evaluation.urls")),
    # The reports page, its downloads and the files of long exports (reports.views).
    path("", include("reports.urls")),
    path("reports/pdf/", include("reports.pdf_urls")),
    path("admin/", admin.site.urls),
    path("imports/", include("imports.urls")),
    # The portal: "/" is each role's home, and /login/ and /logout/ serve every role.
    path("", include("portal.urls")),
]

handler400 = errors.handler400
handler403 = errors.handler403
handler404 = errors.handler404
handler500 = errors.handler500
