"""Core domain models, re-exported so ``from crm.models import Customer`` works."""

from .catalogue import Category, Product
from .customers import Channel, ChannelConsent, ConsentEvent, Customer
from .imports import ImportJob
from .interactions import Interaction
from .orders import Order, OrderLine, Return
from .stores import StaffProfile, Store

__all__ = [
    "Category",
    "Channel",
    "ChannelConsent",
    "ConsentEvent",
    "Customer",
    "ImportJob",
    "Interaction",
    "Order",
    "OrderLine",
    "Product",
    "Return",
    "StaffProfile",
    "Store",
]
