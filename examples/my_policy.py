"""A policy of your own, evaluated from the command line (docs/evaluation.md, "Your own policy"):

bgenv compare --scenario ios_commuter --episodes 8 --policies guidelines,examples/my_policy.py:MyPolicy
"""

import numpy as np

from agents.policies import WORK_KINDS, F, Policy


class MyPolicy(Policy):
    """On Wi-Fi with work waiting, keep one request pending (iOS app refresh, Android job with
    network; 15 min out), otherwise wait; in a window, work in chunks of up to 5 units until
    nothing is left or 15 s have passed (an app refresh gets ~30 s), then report completion."""

    def _act_one(self, o: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        work = any(self.backlog(o, k) for k in WORK_KINDS)
        if self.phase(o) != "background":  # in a window: a chunk of work, or stop (chunk 0)
            go_on = work and self.window_elapsed_s(o) < 15.0
            return np.array([0, 0, self.ctx.chunk_at_most(5) if go_on else 0, 0])
        req = self.ctx.option("refresh" if self.ctx.platform == "ios" else "job+network")
        pending = o[F[f"pending_slot{self.ctx.slot(req)}"]] > 0.5
        ask = work and o[F["net_wifi"]] > 0.5 and not pending
        return np.array([req if ask else 0, self.ctx.delay_at_most(900), 0, 0])
