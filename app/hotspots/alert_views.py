"""Alert subscriptions and past alerts (routes on ``app.hotspots.views.bp``): the alerts page,
subscribing, unsubscribing, and the dashboard's one-click "Watch this ward"."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import permissions
from app.extensions import db
from app.forms import summary_of
from app.geography.services import ward_names
from app.hotspots import subscriptions
from app.hotspots.alerts import day_text
from app.hotspots.subscriptions import KINDS, SubscriptionError
from app.hotspots.views import bp

PAST_PER_PAGE = 20
DASHBOARD_ARGS = {"period", "category", "status", "layer"}  # kept when "Watch this ward" returns


@bp.context_processor
def _watching() -> dict[str, Any]:
    """``watching_ward(code)`` for the dashboard's "Watch this ward" (one query, when asked)."""

    def watching_ward(ward: str) -> bool:
        return current_user.is_authenticated and subscriptions.is_watching(db.session, current_user, ward)

    return {"watching_ward": watching_ward}


def _page_number() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def _alerts_page(errors: dict[str, str], form: dict[str, Any]) -> Any:
    page = _page_number()
    past, total = subscriptions.past_alerts(db.session, current_user, page=page, per_page=PAST_PER_PAGE)
    last_page = max(1, -(-total // PAST_PER_PAGE))
    if page > last_page:
        page = last_page
        past, total = subscriptions.past_alerts(db.session, current_user, page=page, per_page=PAST_PER_PAGE)
    mine = subscriptions.subscriptions_of(db.session, current_user)
    choices = subscriptions.choices(db.session, current_user)
    names = ward_names(db.session)
    return render_template(
        "hotspots/alerts.html",
        subscriptions=mine,
        ward_names=names,
        choices=choices,
        kinds=KINDS,
        form=form,
        past=past,
        total=total,
        page=page,
        last_page=last_page,
        per_page=PAST_PER_PAGE,
        day=day_text,
        errors=errors,
        error_summary=summary_of(errors),
    ), (400 if errors else 200)


@bp.get("/alerts")
@login_required
def alerts() -> Any:
    permissions.require(permissions.can_manage_alerts(current_user))
    return _alerts_page({}, {"ward": request.args.get("ward", ""), "category": "", "kinds": list(KINDS)})


@bp.post("/alerts")
@login_required
def subscribe() -> Any:
    permissions.require(permissions.can_manage_alerts(current_user))
    ward, category, kinds = (
        request.form.get("ward", ""),
        request.form.get("category", ""),
        request.form.getlist("kinds"),
    )
    form = {"ward": ward, "category": category, "kinds": kinds}
    try:
        done = subscriptions.subscribe(db.session, current_user, ward=ward, category=category, kinds=kinds)
    except SubscriptionError as exc:
        return _alerts_page(exc.errors, form)
    subscription = done.subscription
    ward = ward_names(db.session).get(subscription.ward_code, subscription.ward_code)
    what = subscription.category.name.lower() if subscription.category else "all categories"
    wanted = " and ".join(label.lower() for key, label in KINDS.items() if getattr(subscription, key))
    if done.created:
        flash(f"Alert added: you will get emails about {wanted} in {ward}, {what}.", "success")
    else:
        flash(f"Alert changed: for {ward}, {what}, you will now get emails about {wanted}.", "success")
    return redirect(url_for(".alerts"))


@bp.post("/alerts/<int:subscription_id>/delete")
@login_required
def unsubscribe(subscription_id: int) -> Any:
    subscription = subscriptions.own_subscription(db.session, current_user, subscription_id) or abort(404)
    permissions.require(permissions.can_manage_alerts(current_user))
    ward = ward_names(db.session).get(subscription.ward_code, subscription.ward_code)
    what = subscription.category.name.lower() if subscription.category else "all categories"
    subscriptions.unsubscribe(db.session, subscription, by=current_user)
    flash(f"Alert removed: you will no longer get alerts for {ward}, {what}.", "success")
    return redirect(url_for(".alerts"))


@bp.post("/dashboard/watch")
@login_required
def watch_ward() -> Any:
    permissions.require(permissions.can_manage_alerts(current_user))
    ward = request.form.get("ward", "").strip()
    if not ward:
        return render_template(
            "error.html",
            title="Choose a ward first",
            message="Choose a ward on the dashboard, then use “Watch this ward”.",
            code=400,
        ), 400
    name = ward_names(db.session).get(ward) or abort(404)
    permissions.require(permissions.can_see_ward(current_user, ward))
    done = subscriptions.watch_ward(db.session, current_user, ward)
    flash(
        f"You {'are now watching' if done.created else 'are already watching'} {name}: you will get an email "
        "when we find an emerging problem or a new hotspot there.",
        "success",
    )
    return redirect(url_for(".dashboard", **_dashboard_args(request.form.get("back", "")), ward=ward))


def _dashboard_args(query: str) -> dict[str, Any]:
    """The dashboard's own filters from the query string it was showing (``back``), so watching
    a ward returns to the same view; anything else in it is dropped."""
    return {key: values for key, values in parse_qs(query).items() if key in DASHBOARD_ARGS}
