from . import controllers, models, sync
