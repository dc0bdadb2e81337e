"""How an indexing run shares the machine between decoding and the model (core/pipeline.py)."""

from __future__ import annotations

from desktop_app.core.indexing.pipeline import GPU_BATCH, plan_for


def test_on_the_cpu_decoding_waits_for_the_model_and_a_few_threads_decode() -> None:
    plan = plan_for("cpu", cores=2, batch_size=32)
    assert (plan.decoders, plan.batch_size, plan.decode_while_model_runs) == (2, 32, False)
    assert plan_for("cpu", cores=32, batch_size=32).decoders == 4


def test_on_a_gpu_every_core_decodes_all_the_time_in_larger_batches() -> None:
    plan = plan_for("cuda", cores=16, batch_size=32)
    assert (plan.decoders, plan.batch_size, plan.decode_while_model_runs) == (16, GPU_BATCH, True)
    assert plan_for("mps", cores=8, batch_size=256).batch_size == 256
    assert plan_for("cuda", cores=16, batch_size=32, decoders=3).decoders == 3
