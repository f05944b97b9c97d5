"""REST API viewsets: parse, check permissions, call one service or selector.

Permissions come from the project defaults (``IsAuthenticated`` plus
``RoleModelPermissions``: the Django model permissions the role groups hold).
Scoping to a clerk's store is done by the ``crm.selectors`` each
``get_queryset()`` starts from, so lists, searches, filters, ordering and
detail routes all see the same rows; an out-of-scope id is a 404.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.template import Context, Template
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm import filters, selectors
from crm.api import serializers as api_serializers
from crm.models import (
    Category,
    ChannelConsent,
    ConsentEvent,
    Customer,
    Interaction,
    LoginAttempt,
    Order,
    Product,
    Return,
    Store,
)
from crm.roles import CLERK, role_of, store_id_of
from crm.services.auth import client_ip, record_login_attempt, reserve_login_attempt
from crm.services.customers import (
    create_customer,
    erase_customer,
    set_consent,
    update_customer,
)
from crm.services.orders import (
    LineInput,
    cancel_order,
    place_order,
    record_interaction,
    record_return,
)

OWN_STORE_ONLY = "Clerks act for their own store."
NO_STORE = "This clerk account has no store; ask a manager to assign one."

VALIDATION_ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="Invalid input: messages per field."
)
NOT_FOUND = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="Not found, or not visible to you."
)
FORBIDDEN = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="Not logged in, or not allowed."
)


def as_drf_validation_error(exc: DjangoValidationError) -> DRFValidationError:
    """A service's ValidationError in DRF's shape, with field keys kept."""
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
        return DRFValidationError(detail)
    return DRFValidationError({"non_field_errors": exc.messages})


def require_perms(request, *perms: str) -> None:
    """For actions whose meaning is not the HTTP verb's (POST …/cancel/)."""
    if not request.user.has_perms(perms):
        raise PermissionDenied()


def clerk_store_id(request) -> int | None:
    """The clerk's store id (PermissionDenied without one); None for other roles."""
    if role_of(request.user) != CLERK:
        return None
    store_id = selectors.acting_store_id(request.user)
    if store_id is None:
        raise PermissionDenied(NO_STORE)
    return store_id


def check_own_store(request, store, *, field: str) -> Store | None:
    """A clerk may only name their own store; their store is the default."""
    store_id = clerk_store_id(request)
    if store_id is None:
        return store
    if store is not None and store.pk != store_id:
        raise DRFValidationError({field: [OWN_STORE_ONLY]})
    return Store.objects.get(pk=store_id)


class ScopedViewSetMixin:
    """``get_queryset()`` from a selector, so scoping cannot be bypassed (SEC-08)."""

    selector = None

    def get_queryset(self):
        return type(self).selector(self.request.user)


_CRUD_ERRORS = {
    "create": {400: VALIDATION_ERROR, 403: FORBIDDEN},
    "update": {400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND},
    "partial_update": {400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND},
    "retrieve": {403: FORBIDDEN, 404: NOT_FOUND},
    "destroy": {400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND},
    "list": {400: VALIDATION_ERROR, 403: FORBIDDEN},
}


def _documented(serializer_class, *actions: str):
    """extend_schema_view documenting the 400/403/404 answers of each action."""
    views = {}
    for name in actions:
        responses = dict(_CRUD_ERRORS[name])
        if name == "create":
            responses[201] = serializer_class
        elif name == "destroy":
            responses[204] = None
        elif name == "list":
            responses[200] = serializer_class(many=True)
        else:
            responses[200] = serializer_class
        views[name] = extend_schema(responses=responses)
    return extend_schema_view(**views)


ALL_CRUD = ("list", "retrieve", "create", "update", "partial_update", "destroy")


@_documented(api_serializers.StoreSerializer, *ALL_CRUD)
class StoreViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Stores: every role reads them; managers change them."""

    queryset = Store.objects.none()
    selector = staticmethod(selectors.stores_visible_to)
    serializer_class = api_serializers.StoreSerializer
    filterset_class = filters.StoreFilterSet
    search_fields = filters.STORE_SEARCH_FIELDS
    ordering_fields = ["code", "name", "city", "created_at"]


@_documented(api_serializers.CategorySerializer, *ALL_CRUD)
class CategoryViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """The category tree: every role reads it; managers change it."""

    queryset = Category.objects.none()
    selector = staticmethod(selectors.categories_visible_to)
    serializer_class = api_serializers.CategorySerializer
    filterset_class = filters.CategoryFilterSet
    search_fields = filters.CATEGORY_SEARCH_FIELDS
    ordering_fields = ["name", "slug"]


@_documented(api_serializers.ProductSerializer, *ALL_CRUD)
class ProductViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """The catalogue: every role reads it; managers change it."""

    queryset = Product.objects.none()
    selector = staticmethod(selectors.products_visible_to)
    serializer_class = api_serializers.ProductSerializer
    filterset_class = filters.ProductFilterSet
    search_fields = filters.PRODUCT_SEARCH_FIELDS
    ordering_fields = ["name", "sku", "price", "created_at", "updated_at"]


@_documented(api_serializers.CustomerSerializer, *ALL_CRUD)
class CustomerViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Customers and prospects; clerks see and create only their store's."""

    queryset = Customer.objects.none()
    selector = staticmethod(selectors.customers_visible_to)
    serializer_class = api_serializers.CustomerSerializer
    filterset_class = filters.CustomerFilterSet
    search_fields = filters.CUSTOMER_SEARCH_FIELDS
    ordering_fields = [
        "id",
        "last_name",
        "first_name",
        "email",
        "status",
        "created_at",
        "updated_at",
        "became_customer_at",
    ]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data["home_store"] = check_own_store(
            self.request, data.get("home_store"), field="home_store"
        )
        try:
            serializer.instance = create_customer(actor=self.request.user, **data)
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "home_store" in data:
            data["home_store"] = check_own_store(
                self.request, data["home_store"], field="home_store"
            )
        try:
            serializer.instance = update_customer(customer=serializer.instance, **data)
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc

    @extend_schema(
        summary="Erase a customer (GDPR Art. 17)",
        description=(
            "The e-mail and phone go on the suppression list; a customer with "
            "orders is kept anonymous (contact and identity blanked, consents "
            "and notes deleted), one without orders is deleted. Managers only."
        ),
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        erase_customer(customer=instance)

    @extend_schema(
        methods=["GET"],
        summary="Current consent per channel",
        responses={
            200: api_serializers.ChannelConsentSerializer(many=True),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @extend_schema(
        methods=["POST"],
        summary="Grant or withdraw consent on one channel",
        description=(
            "Records the change as evidence (a consent event with you as the "
            "actor). Repeating the current state changes nothing."
        ),
        request=api_serializers.ConsentChangeSerializer,
        responses={
            200: api_serializers.ChannelConsentSerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
    )
    def consents(self, request, pk=None):
        if request.method == "GET":
            require_perms(request, "crm.view_channelconsent")
        else:
            require_perms(
                request, "crm.add_channelconsent", "crm.change_channelconsent"
            )
        customer = self.get_object()
        if request.method == "GET":
            consents = ChannelConsent.objects.filter(customer=customer).order_by(
                "channel"
            )
            data = api_serializers.ChannelConsentSerializer(consents, many=True).data
            return Response(data)
        change = api_serializers.ConsentChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        try:
            consent = set_consent(
                customer=customer, actor=request.user, **change.validated_data
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        return Response(api_serializers.ChannelConsentSerializer(consent).data)


@_documented(api_serializers.ChannelConsentSerializer, "list", "retrieve")
class ChannelConsentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Current consent rows, e.g. ``?channel=sms&granted=true``; change them
    through ``/api/customers/{id}/consents/``."""

    queryset = ChannelConsent.objects.none()
    selector = staticmethod(selectors.consents_visible_to)
    serializer_class = api_serializers.ChannelConsentSerializer
    filterset_class = filters.ChannelConsentFilterSet
    ordering_fields = ["changed_at", "customer", "channel"]


@_documented(api_serializers.ConsentEventSerializer, "list", "retrieve")
class ConsentEventViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Consent evidence, append-only: ``?customer=<id>``."""

    queryset = ConsentEvent.objects.none()
    selector = staticmethod(selectors.consent_events_visible_to)
    serializer_class = api_serializers.ConsentEventSerializer
    filterset_class = filters.ConsentEventFilterSet
    ordering_fields = ["occurred_at"]


@extend_schema_view(
    list=extend_schema(
        responses={
            200: api_serializers.OrderSerializer(many=True),
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
        }
    ),
    retrieve=extend_schema(
        responses={200: api_serializers.OrderSerializer, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
    create=extend_schema(
        request=api_serializers.OrderCreateSerializer,
        responses={
            201: api_serializers.OrderSerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
        },
    ),
    destroy=extend_schema(
        responses={204: None, 400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
)
class OrderViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Orders with nested lines; placed in one call, never edited (cancel instead)."""

    queryset = Order.objects.none()
    selector = staticmethod(selectors.orders_visible_to)
    serializer_class = api_serializers.OrderSerializer
    filterset_class = filters.OrderFilterSet
    search_fields = filters.ORDER_SEARCH_FIELDS
    ordering_fields = ["placed_at", "number", "created_at"]

    def get_serializer_class(self):
        if self.action == "create":
            return api_serializers.OrderCreateSerializer
        return api_serializers.OrderSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        store = check_own_store(request, data.get("store"), field="store")
        lines = [
            LineInput(
                product_id=line["product_obj"].pk,
                quantity=line["quantity"],
                unit_price=line.get("unit_price"),
            )
            for line in data["lines"]
        ]
        channel = data.get("channel", Order._meta.get_field("channel").default)
        try:
            order = place_order(
                lines=lines, customer=data.get("customer"), store=store, channel=channel
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        output = api_serializers.OrderSerializer(
            self._reload(order), context=self.get_serializer_context()
        )
        return Response(output.data, status=status.HTTP_201_CREATED)

    def _reload(self, order: Order) -> Order:
        # Read back through the same selector, with the lines prefetched.
        return selectors.orders_visible_to(self.request.user).get(pk=order.pk)

    @extend_schema(
        request=None,
        responses={
            200: api_serializers.OrderSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a placed order (needs the change-order permission)."""
        require_perms(request, "crm.change_order")
        order = self.get_object()
        cancel_order(order=order)
        return Response(
            api_serializers.OrderSerializer(
                self._reload(order), context=self.get_serializer_context()
            ).data
        )


@_documented(api_serializers.ReturnSerializer, "list", "retrieve", "create")
class ReturnViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Returns of order lines; never more than what is left on the line."""

    queryset = Return.objects.none()
    selector = staticmethod(selectors.returns_visible_to)
    serializer_class = api_serializers.ReturnSerializer
    filterset_class = filters.ReturnFilterSet
    ordering_fields = ["returned_at", "created_at"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = record_return(
                line=data["line"],
                quantity=data["quantity"],
                reason=data.get("reason", ""),
                kind=data.get("kind", Return.Kind.RETURN),
                reference=data.get("reference", ""),
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc


@_documented(api_serializers.InteractionSerializer, *ALL_CRUD)
class InteractionViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Touch points; the staff member and store are taken from the request."""

    queryset = Interaction.objects.none()
    selector = staticmethod(selectors.interactions_visible_to)
    serializer_class = api_serializers.InteractionSerializer
    filterset_class = filters.InteractionFilterSet
    search_fields = filters.INTERACTION_SEARCH_FIELDS
    ordering_fields = ["occurred_at", "created_at"]

    def perform_create(self, serializer):
        user = self.request.user
        # A clerk's interactions belong to their store; other staff record
        # the store of their profile, if they have one.
        store_id = clerk_store_id(self.request) or store_id_of(user)
        try:
            serializer.instance = record_interaction(
                staff=user,
                store=Store.objects.get(pk=store_id) if store_id else None,
                **serializer.validated_data,
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc

    def perform_update(self, serializer):
        # No service owns interaction edits (notes, outcome): a plain save of
        # the validated, explicitly listed fields is all there is to do.
        serializer.save()


# --- Schema and documentation pages ---------------------------------------------

# drf-spectacular's own ReDoc template pulls web fonts from Google; this page
# loads nothing but our static files, and has no inline script (CSP-friendly).
REDOC_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{ title }}</title>
  </head>
  <body>
    <redoc spec-url="{{ schema_url }}"></redoc>
    <script src="{{ redoc_standalone }}"></script>
  </body>
</html>
"""


class SchemaView(SpectacularAPIView):
    """The OpenAPI document; staff only (spectacular's default is AllowAny)."""

    permission_classes = [IsAuthenticated]


class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files; start-up script served as a file
    (``?script``), not inline, so a strict Content-Security-Policy allows it."""

    permission_classes = [IsAuthenticated]


# ReDoc's bundle (styled-components) injects <style> elements and starts a
# blob: worker; a strict style-src breaks the page. The exception is scoped
# to this page, which shows the API schema only, never customer data.
@method_decorator(
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}),
    name="dispatch",
)
class RedocDocsView(SpectacularRedocView):
    """ReDoc from the sidecar's static files, with no third-party fonts."""

    permission_classes = [IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        html = Template(REDOC_PAGE).render(
            Context(
                {
                    "title": self.title,
                    "schema_url": self._get_schema_url(request),
                    "redoc_standalone": self._redoc_standalone(),
                }
            )
        )
        return HttpResponse(html, content_type="text/html; charset=utf-8")


# --- Token login with the brute-force lockout (SEC-05) ----------------------------


class LockoutObtainAuthToken(ObtainAuthToken):
    """DRF's token endpoint, counting each attempt before the password is checked.

    DRF's throttles are not a brute-force control (their counters race); the
    lockout shares the web login's counters, so switching from the form to
    the API buys an attacker nothing.
    """

    @extend_schema(
        summary="Get an API token",
        description=(
            "Exchange a username and password for the user's API token. After "
            "too many failed attempts for one username or from one address "
            "(10 in 15 minutes by default), attempts are refused with 429."
        ),
        responses={
            200: OpenApiResponse(
                response=OpenApiTypes.OBJECT, description='{"token": "<key>"}'
            ),
            400: VALIDATION_ERROR,
            429: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Too many failed attempts for this username or address.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        username = str(request.data.get("username", ""))[:150]
        ticket = reserve_login_attempt(username=username, ip_address=client_ip(request))
        user_agent = request.headers.get("User-Agent", "")
        if not ticket.allowed:
            record_login_attempt(
                ticket=ticket, succeeded=False, via=LoginAttempt.Via.API,
                user_agent=user_agent,
            )  # fmt: skip
            return Response(
                {"detail": gettext("Too many failed attempts; try again later.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            record_login_attempt(
                ticket=ticket, succeeded=False, via=LoginAttempt.Via.API,
                user_agent=user_agent,
            )  # fmt: skip
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        record_login_attempt(
            ticket=ticket, succeeded=True, via=LoginAttempt.Via.API,
            user_agent=user_agent,
        )  # fmt: skip
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
