"""Pure numpy/pandas recommendation engine (no Django, no clock, no I/O).

Entry point: ``pipeline.compute_suggestions``; ``pipeline.build_engine_context``
computes the history-wide part once (rules, item statistics, look-alike pool)
so that many calls over the same history (a run's shards, one-customer
recomputes) pass it in ``EngineInputs.context`` and only do their own
customers' part. Modules: ``baskets`` (order lines
to a sparse basket matrix), ``rules`` (association rules, shard counts),
``basket`` (in-memory rule index for the till), ``scores`` (customer
eligibility), ``similarity`` (item-kNN, look-alikes, blended cross-sell scores),
``candidates``, ``filters``, ``ranking``, ``reasons`` (translatable templates),
``online_retail`` and ``evaluation`` (offline benchmark).
"""
