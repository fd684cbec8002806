"""`/api/v1/funds/reports/summary/` (JSON, or CSV with `?format=csv`) and a source's donor view
(`/api/v1/funds/sources/{id}/transparency/`). Coordinators and auditors; no personal data."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.filters import refuse_unknown_parameters
from common.serializers import DateField
from funds import reports
from funds.models import FundingSource
from funds.permissions import CanReadReports
from funds.renderers import CSVRenderer


class SummaryQuery(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS, default="source")
    start = DateField(required=False, source="from")
    end = DateField(required=False, source="to")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # `from` is a Python keyword: the query names it, the serializer maps it.
        data = {
            "group_by": data.get("group_by", "source"),
            **({"start": data["from"]} if data.get("from") else {}),
            **({"end": data["to"]} if data.get("to") else {}),
        }
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            names = {"start": "from", "end": "to"}
            raise serializers.ValidationError(
                {names.get(name, name): problem for name, problem in exc.detail.items()}
            ) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("It must not be before from.")]})
        return attrs


class JSONErrorsMixin:
    """Errors are JSON even when the client asked for CSV."""

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class SummaryReportView(JSONErrorsMixin, APIView):
    permission_classes = [CanReadReports]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=list(reports.GROUPINGS)),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day, ISO 8601 date"),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="last day, ISO 8601 date (inclusive)"
            ),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        # Not a list, but no less strict: a parameter it does not offer is a 400 naming it.
        refuse_unknown_parameters(request, {"group_by", "from", "to", "format"})
        query = SummaryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        period = reports.Period(start=params.get("from"), end=params.get("to"))
        rows = reports.summary(group_by=params["group_by"], period=period)
        body = {
            "group_by": params["group_by"],
            "from": period.start,
            "to": period.end,
            "rows": rows,
        }
        headers = {}
        if request.accepted_renderer.format == "csv":
            filename = f"funds-summary-by-{params['group_by']}.csv"
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(body, headers=headers)


class TransparencyView(APIView):
    permission_classes = [CanReadReports]

    @extend_schema(responses={200: dict})
    def get(self, request: Request, pk: str) -> Response:
        source = get_object_or_404(FundingSource, pk=pk)
        return Response(reports.transparency(source))
