"""One error shape for every 4xx and 5xx the API answers, in zh and en.

Requests are checked by FastAPI against the schemas; what fails is turned
into a message that names the field. Malformed JSON is 400, a body or
parameter of the wrong shape 422, a refused queue operation 409/422/404 as
its error type says. Anything unexpected is logged and answered 500 in the
same shape, but the API's own tests drive every route with arbitrary input to
keep that from happening.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from daemon.hall import StoreUnavailable
from daemon.queue.errors import QueueError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, headers: dict | None = None):
        super().__init__(en)
        self.status, self.code, self.zh, self.en, self.headers = status, code, zh, en, headers


def language(request: Request) -> str:
    accepted = request.headers.get("accept-language", "").strip().lower()
    return "en" if accepted.startswith("en") else "zh"


def error_response(
    request: Request,
    status: int,
    code: str,
    zh: str,
    en: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "code": code,
        "message": en if language(request) == "en" else zh,
        "messages": {"zh": zh, "en": en},
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP_WORDS = {
    400: (
        "malformed_json",
        "请求体无法解析为 JSON",
        "the request body could not be parsed as JSON",
    ),
    404: ("not_found", "没有这个地址", "no such path"),
    405: ("method_not_allowed", "不支持此请求方法", "method not allowed"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(QueueError)
    async def _queue(request: Request, exc: QueueError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.zh, exc.en)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.zh, exc.en, headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def _store(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return error_response(
            request,
            503,
            "store_unavailable",
            f"数据存储暂不可用，操作未执行：{exc}",
            f"the store is unavailable, nothing was done: {exc}",
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            where = problems[0]["problem"]
            return error_response(
                request,
                400,
                "malformed_json",
                f"请求体不是有效的 JSON：{where}",
                f"the request body is not valid JSON: {where}",
                problems,
            )
        summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        return error_response(
            request,
            422,
            "invalid_request",
            f"请求无效：{summary}",
            f"invalid request: {summary}",
            problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh, en = _HTTP_WORDS.get(
            exc.status_code, ("http_error", str(exc.detail), str(exc.detail))
        )
        return error_response(request, exc.status_code, code, zh, en, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            "internal_error",
            "内部错误，已记录日志",
            "internal error; it has been logged",
        )


def _problem(error: dict[str, Any]) -> dict[str, str]:
    where = ".".join(str(part) for part in error.get("loc", ()))
    problem = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":
        ctx = error.get("ctx") or {}
        problem = f"{ctx.get('error', problem)} at position {error['loc'][-1]}"
    return {"where": where, "problem": problem}
