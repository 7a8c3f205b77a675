"""Glue job runs as AWS has them (item 8 of the package docstring)."""

from __future__ import annotations

from typing import Any

GLUE_RUNNING = ("STARTING", "RUNNING", "STOPPING", "WAITING")


def _patch_glue_job_runs() -> None:
    from moto.core.utils import utcnow
    from moto.glue import models as glue_models
    from moto.glue.models import GlueBackend
    from moto.glue.responses import GlueResponse

    FakeJobRun = glue_models.FakeJobRun
    original_as_dict = FakeJobRun.as_dict

    def as_dict(self: Any) -> dict[str, Any]:
        status = self.status  # advances per moto's state manager
        if status not in GLUE_RUNNING and not getattr(self, "_ddb_lake_completed_on", None):
            self._ddb_lake_completed_on = utcnow()
        out = original_as_dict(self)
        ended = getattr(self, "_ddb_lake_completed_on", None)
        if status in GLUE_RUNNING or ended is None:
            out.pop("CompletedOn", None)
        else:
            out["CompletedOn"] = ended
        return out

    FakeJobRun.as_dict = as_dict  # type: ignore[method-assign]

    def batch_stop_job_run(self: Any, job_name: str, run_ids: list[str]) -> dict[str, Any]:
        job = self.get_job(job_name)
        stopped, errors = [], []
        for run_id in run_ids:
            run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
            if run is None:
                errors.append(
                    {
                        "JobName": job_name,
                        "JobRunId": run_id,
                        "ErrorDetail": {
                            "ErrorCode": "EntityNotFoundException",
                            "ErrorMessage": f"Job Run {run_id} not found",
                        },
                    }
                )
            elif run.status not in GLUE_RUNNING:
                errors.append(
                    {
                        "JobName": job_name,
                        "JobRunId": run_id,
                        "ErrorDetail": {
                            "ErrorCode": "InvalidInputException",
                            "ErrorMessage": f"Job Run {run_id} is in state {run.status} and cannot be stopped",
                        },
                    }
                )
            else:
                run.status = "STOPPED"
                run._ddb_lake_completed_on = utcnow()
                stopped.append({"JobName": job_name, "JobRunId": run_id})
        return {"SuccessfulSubmissions": stopped, "Errors": errors}

    GlueBackend.batch_stop_job_run = batch_stop_job_run  # type: ignore[attr-defined]

    def response_batch_stop_job_run(self: Any) -> Any:
        from moto.core.responses import ActionResult

        result = self.glue_backend.batch_stop_job_run(self._get_param("JobName"), self._get_param("JobRunIds") or [])
        return ActionResult(result)

    GlueResponse.batch_stop_job_run = response_batch_stop_job_run  # type: ignore[attr-defined]
