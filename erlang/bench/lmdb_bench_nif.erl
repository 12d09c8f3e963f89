%%% The NIF of the benchmark's LMDB column (crates/lmdb-bench-nif): the
%%% primitives HyperBEAM's LMDB NIF gives hb_store_lmdb (get, put, list,
%%% flush) over the same LMDB. bench.escript compiles this module and
%%% loads the library cargo built.
-module(lmdb_bench_nif).
-export([load/1, open/2, put/3, get/2, list/2, flush/1]).

%% Loads the library at Path (without its extension).
load(Path) -> erlang:load_nif(Path, 0).

open(_Dir, _MapBytes) -> erlang:nif_error(not_loaded).
put(_Db, _Key, _Value) -> erlang:nif_error(not_loaded).
get(_Db, _Key) -> erlang:nif_error(not_loaded).
list(_Db, _Prefix) -> erlang:nif_error(not_loaded).
flush(_Db) -> erlang:nif_error(not_loaded).
