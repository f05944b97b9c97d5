"""Core domain models, re-exported so ``from crm.models import Customer`` works."""

from .catalogue import Category, Product
from .customers import Channel, ChannelConsent, ConsentEvent, Customer
from .imports import ImportJob
from .interactions import Interaction
from .orders import Order, OrderLine, Return
from .security import LoginAttempt, LoginThrottle
from .stores import StaffProfile, Store
from .suppression import Suppression

__all__ = [
    "Category",
    "Channel",
    "ChannelConsent",
    "ConsentEvent",
    "Customer",
    "ImportJob",
    "Interaction",
    "LoginAttempt",
    "LoginThrottle",
    "Order",
    "OrderLine",
    "Product",
    "Return",
    "StaffProfile",
    "Store",
    "Suppression",
]
