%%% The NIF of the benchmark's floor (crates/rocksdb-bench-nif): RocksDB's
%%% own put and get, on a database opened with hbstore's RocksDB options,
%%% without any of hbstore's paths, checks or caches. bench.escript
%%% compiles this module and loads the library cargo built.
-module(rocksdb_bench_nif).
-export([load/1, open/2, put/3, get/2, flush/1]).

%% Loads the library at Path (without its extension).
load(Path) -> erlang:load_nif(Path, 0).

%% Buffered: the log kept in memory, as `durability => buffered' keeps it.
open(_Dir, _Buffered) -> erlang:nif_error(not_loaded).
put(_Db, _Key, _Value) -> erlang:nif_error(not_loaded).
get(_Db, _Key) -> erlang:nif_error(not_loaded).
flush(_Db) -> erlang:nif_error(not_loaded).
