"""Each channel's outbound user token, by reference only — never in the repo, never logged.

env  CAREWIRE_<CHANNEL>_ACCESS_TOKEN               (e.g. CAREWIRE_X_CARE_ACCESS_TOKEN; local, CI)
SSM  /carewire/<stage>/channels/<channel>/access-token   SecureString, read through Powertools Parameters
     and cached for `max_age` seconds, so a rotated token is picked up without a deploy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

TokenLookup = Callable[[str], "str | None"]


def token_env(channel: str) -> str:
    return "CAREWIRE_" + channel.upper().replace("-", "_") + "_ACCESS_TOKEN"


def token_parameter(stage: str, channel: str) -> str:
    return f"/carewire/{stage}/channels/{channel}/access-token"


class Tokens:
    def __init__(
        self,
        stage: str,
        env: Mapping[str, str] | None = None,
        fixed: Mapping[str, str] | None = None,
        max_age: int = 300,
        ssm: Callable[[str, int], str] | None = None,
    ) -> None:
        """`fixed`: channel → token, for the local sandbox and tests. `ssm(name, max_age)` reads a SecureString
        (default: Powertools Parameters); it is used outside the local stage only."""
        self._stage = stage
        self._env = os.environ if env is None else env
        self._fixed = dict(fixed or {})
        self._max_age = max_age
        self._ssm = ssm

    def get(self, channel: str) -> str | None:
        if channel in self._fixed:
            return self._fixed[channel]
        value = self._env.get(token_env(channel))
        if value:
            return value
        if self._stage == "local":
            return None
        return self._read_ssm(token_parameter(self._stage, channel))

    def _read_ssm(self, name: str) -> str | None:
        try:
            if self._ssm is not None:
                return self._ssm(name, self._max_age)
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_parameter(name, decrypt=True, max_age=self._max_age))
        except Exception:  # noqa: BLE001 - any failure means "no token": the channel is marked unhealthy
            return None
