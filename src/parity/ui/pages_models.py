"""The registry: models, and one model's versions, aliases, locks, audit timeline and lineage,
with alias moves and locks for viewers whose role allows them (forms with a CSRF token)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from parity.api import models as models_api
from parity.core.errors import ConflictError, NotFoundError, ParityError, UsageError
from parity.core.roles import Principal, Role, Scope
from parity.registry.versions import Actor
from parity.ui.lineage_svg import layout
from parity.ui.page import Form, ModelName, Page, SignedIn, Viewer, WorkspaceOf
from parity.ui.templating import render
from parity.workspace import Workspace

IN_MODEL = (Scope.MODEL, "name")


def models_page(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """Every registered model with its latest version and aliases."""
    return render(request, "models.html", viewer, models=models_api.list(workspace=ws))


def model_page(
    request: Request,
    name: ModelName,
    ws: WorkspaceOf,
    viewer: Viewer,
    version: int | None = None,
    done: str | None = None,
) -> Response:
    """A model: versions, aliases, locks, the audit timeline, and one version's lineage; after a
    change, ``done`` names what was done (one of ``NOTICES``, never text of its own)."""
    return _model_view(request, name, ws, viewer, version, notice=NOTICES.get(done or ""))


# What a change that worked says on the page it returns to. A fixed set: text from the query
# string is never shown, so a link cannot put words of its own in the page's mouth.
NOTICES = {"alias": "Alias moved.", "lock": "Version locked.", "unlock": "Version unlocked."}


def _model_view(
    request: Request,
    name: str,
    ws: Workspace,
    viewer: Principal | None,
    version: int | None,
    notice: str | None = None,
    error: ParityError | None = None,
) -> Response:
    versions = models_api.versions(name, workspace=ws)
    if not versions:
        raise NotFoundError(f"no model {name!r}", hint="see the models page")
    shown = next((v for v in versions if v.version == version), versions[-1])
    try:
        drawing = layout(models_api.lineage(shown.ref, workspace=ws))
    except ParityError:
        drawing = None
    may_write = viewer is not None and viewer.may(Role.WRITER, (Scope.MODEL, name))
    history = list(reversed(models_api.history(name, workspace=ws)))  # newest first
    return render(
        request, "model.html", viewer, _status(error), name=name, versions=list(reversed(versions)),
        shown=shown, drawing=drawing, history=history, may_change=may_write,
        error=error.message if error else None, error_hint=error.hint if error else None,
        notice=notice,
    )  # fmt: skip


def _status(error: ParityError | None) -> int:
    if error is None:
        return 200
    if isinstance(error, NotFoundError):
        return 404
    return 409 if isinstance(error, ConflictError) else 400


def _acting(viewer: Principal, name: str) -> Actor:
    return Actor(name=viewer.user, admin=viewer.may(Role.ADMIN, (Scope.MODEL, name)))


def _done(name: str, version: int, what: str) -> Response:
    """Back to the model's page at the version changed, saying what was done (by its code)."""
    return RedirectResponse(f"/models/{quote(name)}?version={version}&done={what}", status_code=303)


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not text.isdigit():
        raise UsageError(f"version {text!r} is not a number", hint="pick a version")
    return int(text)


def move_alias(
    request: Request, name: ModelName, form: Form, ws: WorkspaceOf, viewer: SignedIn
) -> Response:
    """Point an alias at a version, with a reason, as the signed-in user (audited). A refusal
    is shown on the page this post returns, not carried in an address."""
    try:
        alias = form.get("alias", "").strip()
        if not alias:
            raise UsageError("name the alias", hint="type the alias to move, e.g. production")
        number = _version(form)
        ws.registry.set_alias(
            name, number, alias, _acting(viewer, name), form.get("reason") or None,
            force=form.get("force") == "1",
        )  # fmt: skip
    except ParityError as error:
        return _model_view(request, name, ws, viewer, _shown(form), error=error)
    return _done(name, number, "alias")


def lock_version(
    request: Request, name: ModelName, form: Form, ws: WorkspaceOf, viewer: SignedIn
) -> Response:
    """Lock or unlock a version (unlocking: admins only, as the registry rules)."""
    unlocking = form.get("action") == "unlock"
    try:
        number = _version(form)
        reason = form.get("reason") or None
        if unlocking:
            ws.registry.unlock(name, number, _acting(viewer, name), reason)
        else:
            ws.registry.lock(name, number, _acting(viewer, name), reason)
    except ParityError as error:
        return _model_view(request, name, ws, viewer, _shown(form), error=error)
    return _done(name, number, "unlock" if unlocking else "lock")


def _shown(form: dict[str, str]) -> int | None:
    text = form.get("version", "")
    return int(text) if text.isdigit() else None


PAGES = (
    Page("GET", "/models", Role.READER, models_page, "Show the models"),
    Page("GET", "/models/{name}", Role.READER, model_page, "Show a model", scope=IN_MODEL),
    Page("POST", "/models/{name}/alias", Role.WRITER, move_alias, "Move an alias",
         scope=IN_MODEL),
    Page("POST", "/models/{name}/lock", Role.WRITER, lock_version, "Lock or unlock a version",
         scope=IN_MODEL),
)  # fmt: skip
