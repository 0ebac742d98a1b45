"""Themes: the site's themes of comments, as a team changes them — rename a starter theme or add
terms to it, turn it off, merge one into another (and undo it), reset it to how it ships, and
add themes of the site's own (issue 15).

Every change goes through `theme_editing` (as the admin API's `PUT/POST/DELETE
/api/v1/sites/<id>/themes/...`), whose refusals name the field they belong to; the page shows
each next to that field of the form that was sent. The next report themes the comments again.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from .. import theme_editing
from ..core.themes import MAX_LABEL, STARTER_LABELS
from .access import current_account, site_page

TERMS_SHOWN = 12


def _services() -> Any:
    return current_app.extensions["ces"]


def split_terms(text: str | None) -> list[str]:
    """The form's terms: one per line or separated by commas, blanks dropped."""
    return [t.strip() for t in re.split(r"[\n,]", text or "") if t.strip()]


def _themes(site_id: int) -> dict[str, Any]:
    """The API's view, plus what the page shows of themes that are off or merged away."""
    view = theme_editing.site_themes_view(_services().storage, site_id)
    entries = view["settings"].get("themes", {})
    labels = {t["key"]: t["label"] for t in view["themes"]}

    def label(key: str) -> str:
        return entries.get(key, {}).get("label") or labels.get(key) or STARTER_LABELS.get(key, key)
    view["off_themes"] = [{"key": k, "label": label(k), "kind": "starter" if k in STARTER_LABELS else "custom",
                           "added_terms": entries.get(k, {}).get("terms", [])} for k in view["off"]
                          if "merged_into" not in entries.get(k, {})]
    view["label_of"] = label
    view["merge_options"] = {t["key"]: [("", "Choose a theme…")] + [(o["key"], o["label"]) for o in view["themes"]
                                                                      if o["key"] != t["key"]]
                             for t in view["themes"]}
    return view


def _stored_values(view: dict[str, Any]) -> dict[str, str]:
    """Each card's form as stored: the label the site set (empty: the starter's), its added terms."""
    entries = view["settings"].get("themes", {})
    out: dict[str, str] = {}
    for t in view["themes"]:
        own = t["kind"] == "custom"
        out[f"{t['key']}.label"] = t["label"] if own else entries.get(t["key"], {}).get("label", "")
        out[f"{t['key']}.terms"] = "\n".join(t["added_terms"])
        out[f"{t['key']}.enabled"] = "on"
    return out


def _page(site: dict[str, Any], status: int = 200, errors: dict[str, list[str]] | None = None,
          values: dict[str, str] | None = None) -> Any:
    """`errors` and `values` by field name: each form's fields are named `<theme key>.<field>`
    (`new.` for the form adding a theme), so one message lands next to the field it is about."""
    view = _themes(site["id"])
    shown = _stored_values(view)
    if values:  # the refused form as it was typed
        for name in values:  # a theme's save form sent: its box is as sent (absent when unticked)
            if name.endswith((".label", ".terms")):
                shown.pop(name.rsplit(".", 1)[0] + ".enabled", None)
        shown.update(values)
    return render_template("dashboard/themes.html", site=site, active="themes", view=view,
                           errors=errors or {}, values=shown, terms_shown=TERMS_SHOWN,
                           open_forms={name.split(".", 1)[0] for name in (errors or {}) if "." in name},
                           max_label=MAX_LABEL), status


def _done(site: dict[str, Any], message: str, anchor: str) -> Any:
    flash(message + " The next report themes the comments again.", "notice")
    return redirect(url_for("dashboard.themes", site_id=site["id"]) + f"#{anchor}", code=303)


def _refused(site: dict[str, Any], prefix: str, err: theme_editing.ThemeEditError) -> Any:
    field = err.field if err.field in ("label", "terms", "key", "into", "enabled") else "_schema"
    name = f"{prefix}.{field}" if field != "_schema" else "_schema"
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _page(site, err.status if err.status in (400, 404, 409) else 400, {name: [err.detail]}, values)


def _actor() -> str:
    return current_account().actor  # type: ignore[union-attr]  # site_page made sure


def _field(prefix: str, name: str) -> str:
    return (request.form.get(f"{prefix}.{name}") or "").strip()


@site_page
def themes(site: dict[str, Any]) -> Any:
    """The page; a POST adds a theme of the site's own (fields `new.key`, `new.label`, `new.terms`)."""
    if request.method != "POST":
        return _page(site)
    key = _field("new", "key").lower()
    taken = {t["key"] for t in _themes(site["id"])["themes"]} | set(STARTER_LABELS)
    if key in taken:
        reason = "A starter theme has this key: change it in its card." if key in STARTER_LABELS else \
            "The site has a theme with this key already."
        return _refused(site, "new", theme_editing.ThemeEditError(400, "key", reason, reason))
    return _save(site, key, "new", enabled=None)


@site_page
def save_theme(site: dict[str, Any], key: str) -> Any:
    """Rename, change the added terms, turn on or off one theme."""
    return _save(site, key, key, enabled=request.form.get(f"{key}.enabled") == "on")


def _save(site: dict[str, Any], key: str, prefix: str, enabled: bool | None) -> Any:
    label = _field(prefix, "label")
    entry: dict[str, Any] = {"label": label or None, "terms": split_terms(request.form.get(f"{prefix}.terms")) or None,
                             "enabled": enabled}
    try:
        theme_editing.put_theme(_services().storage, _actor(), site["id"], key, entry, _services().now())
    except theme_editing.ThemeEditError as err:
        return _refused(site, prefix, err)
    return _done(site, f"Theme {label or key} saved.", f"theme-{key}")


@site_page
def merge(site: dict[str, Any], key: str) -> Any:
    into = _field(key, "into")
    try:
        if not into:
            raise theme_editing.ThemeEditError(400, "into", "no target", "Choose the theme to merge it into.")
        theme_editing.merge_theme(_services().storage, _actor(), site["id"], key, into, _services().now())
    except theme_editing.ThemeEditError as err:
        return _refused(site, key, err)
    return _done(site, f"Merged {key} into {into}.", f"theme-{into}")


@site_page
def unmerge(site: dict[str, Any], key: str) -> Any:
    try:
        theme_editing.unmerge_theme(_services().storage, _actor(), site["id"], key, _services().now())
    except theme_editing.ThemeEditError as err:
        return _refused(site, key, err)
    return _done(site, f"{key} is its own theme again.", f"theme-{key}")


@site_page
def reset(site: dict[str, Any], key: str) -> Any:
    try:
        theme_editing.reset_theme(_services().storage, _actor(), site["id"], key, _services().now())
    except theme_editing.ThemeEditError as err:
        return _refused(site, key, err)
    starter = key in STARTER_LABELS
    return _done(site, f"Theme {key} reset to how it ships." if starter else f"Theme {key} deleted.",
                 f"theme-{key}" if starter else "add-theme")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/themes", "themes", themes, methods=["GET", "POST"])
    bp.add_url_rule("/sites/<int:site_id>/themes/<key>", "theme_save", save_theme, methods=["POST"])
    bp.add_url_rule("/sites/<int:site_id>/themes/<key>/merge", "theme_merge", merge, methods=["POST"])
    bp.add_url_rule("/sites/<int:site_id>/themes/<key>/unmerge", "theme_unmerge", unmerge, methods=["POST"])
    bp.add_url_rule("/sites/<int:site_id>/themes/<key>/reset", "theme_reset", reset, methods=["POST"])
