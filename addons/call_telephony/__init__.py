from . import controllers, models
from .bus_dispatch import post_load
from .hooks import post_init_hook, uninstall_hook
