"""Public (no login) campaign URLs, mounted under /u/ by crm.urls."""

from django.urls import path

from campaigns import unsubscribe

app_name = "campaigns_public"

urlpatterns = [
    path("sms/inbound/", unsubscribe.InboundSmsView.as_view(), name="sms_inbound"),
    path("<str:token>/", unsubscribe.UnsubscribeView.as_view(), name="unsubscribe"),
    path(
        "<str:token>/one-click/",
        unsubscribe.OneClickUnsubscribeView.as_view(),
        name="unsubscribe_one_click",
    ),
]
