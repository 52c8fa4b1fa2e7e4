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
    return catalog.county_list(engine.root)


@router.get("/v1/counties/{county}", response_model=CountyView)
def county_profile(county: CountyPath, engine: EngineDep) -> CountyView:
    return catalog.county_view(engine, county)


@router.get("/v1/domains", response_model=list[DomainOut])
def domains(ctx: CountyDep) -> list[DomainOut]:
    return catalog.domains(ctx.kb)


@router.get("/v1/departments", response_model=list[DepartmentOut])
def departments(ctx: CountyDep) -> list[DepartmentOut]:
    return catalog.departments(ctx.kb)


@router.get("/v1/departments/{dept_id}/items", response_model=DepartmentItems)
def department_items(dept_id: str, ctx: CountyDep) -> DepartmentItems:
    return catalog.department_items(ctx.kb, dept_id)


@router.get("/v1/items", response_model=list[ItemSummary])
def items(
    ctx: CountyDep,
    domain: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ItemSummary]:
    return catalog.items(ctx.kb, domain, q)


@router.get("/v1/items/{item_id}", response_model=ItemDetail)
def item(item_id: str, ctx: CountyDep) -> ItemDetail:
    return catalog.item_detail(ctx.kb, ctx.loaded.county, item_id)
