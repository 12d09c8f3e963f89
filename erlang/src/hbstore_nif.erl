%%% @doc The NIF behind `hb_store_hbstore': loads `priv/hbstore_nif.so' and
%%% declares its functions. Call `hb_store_hbstore', not this module: it
%%% turns HyperBEAM's request maps into these calls and picks the scheduler
%%% variant (`write' or `write_dirty') for each. Every function but `open'
%%% and `open_cluster' takes the store's name (its directory, or the name a
%%% cluster store was opened under) first and answers
%%% `{error, {not_open, Dir}}' when no store of that name is open. The
%%% functions that run on a normal scheduler (`read', `type', `resolve',
%%% `list', `write', `link') answer `remote' for a store on a cluster, whose
%%% calls wait on the network, and `busy' where they would wait: the caller
%%% then uses the dirty variant.
-module(hbstore_nif).
-export([open/6, open_cluster/4, close/1]).
-export([read/3, read_group/3, type/2, type_dirty/2, resolve/2, resolve_dirty/2, list/5,
         list_dirty/5]).
-export([write/2, write_dirty/2, link/2, link_dirty/2, group/2, delete/3]).
-export([match/3, reset/1, metrics/1, metrics_text/1]).
-on_load(init/0).

-spec init() -> ok | {error, term()}.
init() ->
    erlang:load_nif(filename:join(priv_dir(), "hbstore_nif"), 0).

%% The application's priv directory, or, when the module was loaded from a
%% plain directory of beams (not as an application), `../priv' beside it.
priv_dir() ->
    case code:priv_dir(hbstore) of
        {error, bad_name} ->
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir ->
            Dir
    end.

-spec open(binary(), boolean(), process | sync | {buffered, pos_integer()}, none | lz4 | zstd | tiered,
           non_neg_integer() | nil, non_neg_integer() | nil) ->
    ok | {error, term()} | {failure, term()}.
open(_Dir, _ReadOnly, _Durability, _Compression, _BlockCacheBytes, _MemoryBudget) ->
    erlang:nif_error(nif_not_loaded).
-spec open_cluster(binary(), binary(), non_neg_integer(), pos_integer() | nil) ->
    ok | {error, term()} | {failure, term()}.
open_cluster(_Name, _Address, _Replicas, _DeadlineMs) -> erlang:nif_error(nif_not_loaded).
-spec close(binary()) -> ok.
close(_Name) -> erlang:nif_error(nif_not_loaded).
read(_Name, _Path, _InlineUpTo) -> erlang:nif_error(nif_not_loaded).
read_group(_Name, _Path, _InlineUpTo) -> erlang:nif_error(nif_not_loaded).
type(_Name, _Path) -> erlang:nif_error(nif_not_loaded).
type_dirty(_Name, _Path) -> erlang:nif_error(nif_not_loaded).
resolve(_Name, _Path) -> erlang:nif_error(nif_not_loaded).
resolve_dirty(_Name, _Path) -> erlang:nif_error(nif_not_loaded).
list(_Name, _Path, _From, _Limit, _Direction) -> erlang:nif_error(nif_not_loaded).
list_dirty(_Name, _Path, _From, _Limit, _Direction) -> erlang:nif_error(nif_not_loaded).
write(_Name, _Entries) -> erlang:nif_error(nif_not_loaded).
write_dirty(_Name, _Entries) -> erlang:nif_error(nif_not_loaded).
link(_Name, _Entries) -> erlang:nif_error(nif_not_loaded).
link_dirty(_Name, _Entries) -> erlang:nif_error(nif_not_loaded).
group(_Name, _Path) -> erlang:nif_error(nif_not_loaded).
delete(_Name, _Path, _Recursive) -> erlang:nif_error(nif_not_loaded).
match(_Name, _Pairs, _Limit) -> erlang:nif_error(nif_not_loaded).
reset(_Name) -> erlang:nif_error(nif_not_loaded).
metrics(_Name) -> erlang:nif_error(nif_not_loaded).
metrics_text(_Name) -> erlang:nif_error(nif_not_loaded).
