"""Recommendations pages (namespace ``recommendations``), mounted at /suggestions/."""

from django.urls import path

from recommendations import views

app_name = "recommendations"

urlpatterns = [
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path(
        "customers/<int:customer_id>/",
        views.CustomerSuggestionsPanelView.as_view(),
        name="customer_panel",
    ),
    path(
        "<int:pk>/outcome/",
        views.SuggestionOutcomeView.as_view(),
        name="suggestion_outcome",
    ),
    # The clerk's counter; /counter/ (crm.urls) redirects here.
    path("counter/", views.CounterView.as_view(), name="counter"),
    path(
        "counter/customers/<int:customer_id>/",
        views.CounterCustomerView.as_view(),
        name="counter_customer",
    ),
    path(
        "counter/offers/<int:pk>/outcome/",
        views.CounterOfferOutcomeView.as_view(),
        name="counter_offer_outcome",
    ),
    path("counter/basket/", views.CounterBasketView.as_view(), name="counter_basket"),
    path(
        "counter/basket/outcome/",
        views.CounterBasketOutcomeView.as_view(),
        name="counter_basket_outcome",
    ),
]
