"""Named environments (venvs with chosen package versions) and bisection across releases."""

from kerasbench.envs.named import (
    EnvError,
    EnvRecord,
    Index,
    check_name,
    create,
    get,
    installed_versions,
    list_envs,
    remove,
)

__all__ = [
    "EnvError",
    "EnvRecord",
    "Index",
    "check_name",
    "create",
    "get",
    "installed_versions",
    "list_envs",
    "remove",
]
