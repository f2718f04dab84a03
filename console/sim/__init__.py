"""Simulated customers (en/ko/ja) for the demo, tests and load benchmarks.

``run_simulator`` plays realistic chats over the customer API and the stream;
``run_load`` opens many conversations quickly; ``plan_customers`` shows, without
any I/O, exactly what a seed will make customers say.
"""

from console.sim.plan import CustomerPlan, plan_customers
from console.sim.runner import SentMessage, SimStats, run_load, run_simulator

__all__ = ["CustomerPlan", "SentMessage", "SimStats", "plan_customers", "run_load", "run_simulator"]
