"""Extensions, created unbound and initialised in ``create_app``."""

from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from app.db import Database

db = Database()
migrate = Migrate()
csrf = CSRFProtect()
