"""The list itself: domains, departments and what each owns, items and each matter's 说明书."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from .. import catalog
from ..views import CountyOut, CountyView, DepartmentItems, DepartmentOut, DomainOut, ItemDetail, ItemSummary
from .deps import CountyDep, CountyPath, EngineDep

router = APIRouter(tags=["list"])


@router.get("/v1/counties", response_model=list[CountyOut])
def counties(engine: EngineDep) -> list[CountyOut]:
    """各县清单:县名、是否为示例数据。

    其余接口用 county 参数选县,不带时为默认县。"""
    return catalog.county_list(engine.root)


@router.get("/v1/counties/{county}", response_model=CountyView)
def county_profile(county: CountyPath, engine: EngineDep) -> CountyView:
    """一个县的概况:乡镇、各部门联系方式(示例数据会标明)和响应时限。

    联系方式按县里填报的原样给出,未填报的不编造。"""
    return catalog.county_view(engine, county)


@router.get("/v1/domains", response_model=list[DomainOut])
def domains(ctx: CountyDep) -> list[DomainOut]:
    """清单的领域(自然资源、生态环境……),按清单顺序。"""
    return catalog.domains(ctx.kb)


@router.get("/v1/departments", response_model=list[DepartmentOut])
def departments(ctx: CountyDep) -> list[DepartmentOut]:
    """县直部门、乡镇及派驻机构。"""
    return catalog.departments(ctx.kb)


@router.get("/v1/departments/{dept_id}/items", response_model=DepartmentItems)
def department_items(dept_id: str, ctx: CountyDep) -> DepartmentItems:
    """某部门负主体责任和配合责任的事项。

    回答“农业农村局管哪些事”:分主体责任、配合责任两组列出。"""
    return catalog.department_items(ctx.kb, dept_id)


@router.get("/v1/items", response_model=list[ItemSummary])
def items(
    ctx: CountyDep,
    domain: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ItemSummary]:
    """按领域或关键词检索清单事项;关键词匹配事项名称(含别名)、情形和触发词。"""
    return catalog.items(ctx.kb, domain, q)


@router.get("/v1/items/{item_id}", response_model=ItemDetail)
def item(item_id: str, ctx: CountyDep) -> ItemDetail:
    """一个事项的说明书:主体和配合单位及其职责、情形、程序、时限和法律依据。"""
    return catalog.item_detail(ctx.kb, ctx.loaded.county, item_id)
