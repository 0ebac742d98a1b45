"""Survey read endpoints: the score."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..core.scoring import score_from_distribution
from .auth import site_or_admin
from .errors import not_found

bp = Blueprint("surveys", __name__, url_prefix="/api/v1")


@bp.get("/surveys/<int:survey_id>/score")
def survey_score(survey_id: int):
    site = site_or_admin()
    storage = current_app.extensions["ces"].storage
    survey = storage.get_survey(survey_id)
    # Another site's survey is answered like a missing one.
    if survey is None or (site is not None and survey["site_id"] != site["id"]):
        raise not_found("survey", survey_id)
    result = score_from_distribution(survey["metric"], storage.score_distribution(survey_id))
    return jsonify(survey_id=survey_id, **result.as_dict())
