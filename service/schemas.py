"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ClassifyRequest", "ClassifyResponse", "ClassifyResult", "Alternative", "ErrorResponse"]


class ClassifyRequest(BaseModel):
    texts: list[str] = Field(
        min_length=1,
        description="Opinions to classify, in order (at most the service's MINYI_MAX_TEXTS).",
        examples=[["暖气不热，屋里才十五度", "医保报销要跑好几趟"]],
    )


class Alternative(BaseModel):
    label: str
    probability: float


class ClassifyResult(BaseModel):
    level1: str = Field(examples=["城乡建设"])
    level2: str = Field(examples=["供暖"])
    confidence: float = Field(examples=[0.75])
    alternatives: list[Alternative]
    department: str = Field(examples=["住房和城乡建设局（供热办）"])
    keywords: list[str] = Field(examples=[["暖气", "不热"]])


class ClassifyResponse(BaseModel):
    results: list[ClassifyResult]


class ErrorResponse(BaseModel):
    error: str = Field(examples=["missing or invalid API key"])
