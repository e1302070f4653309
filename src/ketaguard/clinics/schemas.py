"""What an admin may set for a clinic's screening, and how it is shown."""

from pydantic import BaseModel, ConfigDict, Field


class ScreeningSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # PCL-5 totals run 0-80 and SDS totals 0-15 (reference §3.1); a cut-off outside leaves a
    # band empty.
    pcl5_cutoff: int | None = Field(default=None, ge=1, le=80)
    sds_cutoff: int | None = Field(default=None, ge=1, le=15)
    screening_valid_days: int | None = Field(default=None, ge=1, le=3650)


class ScreeningSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pcl5_cutoff: int
    sds_cutoff: int | None
    screening_valid_days: int | None
