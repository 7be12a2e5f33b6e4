"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "ClassifyRequest",
    "ClassifyResponse",
    "ClassifyResult",
    "Alternative",
    "ErrorResponse",
    "OpinionIn",
    "OpinionsRequest",
    "OpinionResult",
    "OpinionsResponse",
    "Cluster",
    "ClusterPage",
    "ClusterDetail",
    "Member",
    "TrendPoint",
    "DraftResponse",
    "Batch",
    "BatchFile",
    "AuditEntry",
    "AuditPage",
    "BatchPage",
]


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


class OpinionIn(BaseModel):
    text: str = Field(min_length=1, examples=["村里那条路坑坑洼洼好几年了，下雨天根本没法走"])
    external_id: str | None = Field(
        None,
        max_length=190,
        description="Your id for the opinion; sending it again returns the stored result.",
        examples=["QR-20241105-0031"],
    )
    title: str = Field("", max_length=500, examples=["青石村道路破损"])
    source: str = Field(
        "", max_length=128, description="Channel (接待日, 小程序, 12345 …).", examples=["接待日"]
    )
    time: str = Field("", max_length=32, examples=["2024-11-05 09:30"])
    place: str = Field("", max_length=200, examples=["青石镇青石村"])
    user: str = Field(
        "", max_length=200, description="Who gave it (masked before storing unless masking is off)."
    )


class OpinionsRequest(BaseModel):
    opinions: list[OpinionIn] = Field(
        min_length=1, description="At most the service's MINYI_MAX_TEXTS opinions."
    )


class OpinionResult(BaseModel):
    external_id: str | None
    key: str = Field(description="The key the opinion is stored under.")
    created: bool = Field(
        description="False when the opinion was stored before (idempotent resubmission)."
    )
    status: str = Field(examples=["ok"], description="ok, empty or error (then it is not stored).")
    error: str = ""
    cluster: str = Field("", examples=["C2024Q4-0003"])
    level1: str = Field("", examples=["交通运输"])
    level2: str = Field("", examples=["道路破损/改道"])
    department: str = Field("", examples=["交通运输局"])


class OpinionsResponse(BaseModel):
    results: list[OpinionResult]


class Cluster(BaseModel):
    model_config = {"extra": "allow"}

    cluster: str = Field(examples=["C2024Q4-0003"])
    size: int = Field(examples=[12])
    title: str = Field("", examples=["青石村：村里那条路坑坑洼洼好几年了"])
    level1: str = ""
    level2: str = ""
    department: str = ""
    places: str = ""
    keywords: str = ""
    first_seen: str = ""
    last_seen: str = ""
    heat: float = 0.0
    urgency: float = 0.0
    breadth: float = 0.0
    importance: float = 0.0
    status: str = Field(
        "待核实",
        description=(
            "Where the cluster stands: 待核实, 已核实, 已转办, 已办结 or 不予处理 (set in review)."
        ),
    )


class ClusterPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Cluster]


class Member(BaseModel):
    external_id: str | None
    text: str
    title: str
    time: str
    source: str
    place: str
    level1: str
    level2: str


class TrendPoint(BaseModel):
    week: str = Field(examples=["2024-W45"])
    count: int


class ClusterDetail(Cluster):
    members: list[Member]
    trend: list[TrendPoint]


class DraftResponse(BaseModel):
    model_config = {"extra": "allow"}

    cluster: str
    title: str
    sections: dict


class BatchFile(BaseModel):
    name: str = Field(examples=["opinions.csv"])
    url: str = Field(examples=["/v1/batches/5f0c…/files/opinions.csv"])
    bytes: int


class Batch(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed.", examples=["running"])
    filename: str
    stage: str = Field("", examples=["classify"])
    done: int = 0
    total: int = 0
    attempts: int = 0
    error: str = ""
    created_at: str
    updated_at: str
    summary: dict = Field(default_factory=dict)
    files: list[BatchFile] = Field(default_factory=list)


class AuditEntry(BaseModel):
    at: str
    who: str = Field(description="The key's name, or the reviewer's.", examples=["intake-desk"])
    action: str = Field(examples=["opinions.store"])
    target: str = Field("", examples=["3 opinions"])
    detail: str = ""
    source: str = Field(description="service, or review (a review decision).")


class AuditPage(BaseModel):
    limit: int
    offset: int
    items: list[AuditEntry]


class BatchPage(BaseModel):
    limit: int
    offset: int
    items: list[Batch]
