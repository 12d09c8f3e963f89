%%% The benchmark's LMDB column: a store that behaves as HyperBEAM's
%%% hb_store_lmdb does, over lmdb_bench_nif (which offers its NIF's
%%% primitives), so that hb_store_hbstore is measured from Erlang beside
%%% what a node runs today. What it does per call is what hb_store_lmdb
%%% does: values, `group' markers and `link:' values under plain paths;
%%% a read follows links at the path, then (when that finds nothing) in
%%% the path's segments; a list resolves a link at the path, then lists
%%% by a prefix cursor.
-module(lmdb_bench_store).
-export([start/1, write/3, make_group/2, make_link/3, read/2, list/2, type/2, flush/1]).

%% hb_store_lmdb's default map size.
-define(MAP_BYTES, 16 * 1024 * 1024 * 1024).
-define(MAX_REDIRECTS, 1000).

start(Dir) -> lmdb_bench_nif:open(unicode:characters_to_binary(Dir), ?MAP_BYTES).

flush(Db) -> lmdb_bench_nif:flush(Db).

write(Db, Path, Value) -> lmdb_bench_nif:put(Db, Path, Value).

make_group(Db, Path) -> write(Db, Path, <<"group">>).

%% A group at each missing ancestor of New, then the link.
make_link(Db, Existing, New) ->
    Segments = binary:split(New, <<"/">>, [global]),
    ok = ensure_groups(Db, <<>>, lists:droplast(Segments)),
    write(Db, New, <<"link:", Existing/binary>>).

ensure_groups(_Db, _Above, []) -> ok;
ensure_groups(Db, Above, [Segment | Rest]) ->
    Group = join(Above, Segment),
    case lmdb_bench_nif:get(Db, Group) of
        not_found -> ok = make_group(Db, Group);
        {ok, _} -> ok
    end,
    ensure_groups(Db, Group, Rest).

join(<<>>, Segment) -> Segment;
join(Above, Segment) -> <<Above/binary, "/", Segment/binary>>.

%% `{ok, Value}' or `not_found' (a group reads as not_found).
read(Db, Path) ->
    case read_with_links(Db, Path, 0) of
        {ok, Value} -> {ok, Value};
        not_found ->
            case resolve_segments(Db, binary:split(Path, <<"/">>, [global]), 0) of
                {ok, Resolved} -> read_with_links(Db, Resolved, 0);
                error -> not_found
            end
    end.

read_with_links(_Db, _Path, Hops) when Hops > ?MAX_REDIRECTS -> not_found;
read_with_links(Db, Path, Hops) ->
    case lmdb_bench_nif:get(Db, Path) of
        {ok, <<"link:", Target/binary>>} -> read_with_links(Db, Target, Hops + 1);
        {ok, <<"group">>} -> not_found;
        {ok, Value} -> {ok, Value};
        not_found -> not_found
    end.

%% The path with every link among its leading segments replaced by its
%% target (the last segment left as it is); content-addressed paths
%% (`data/...') are never resolved.
resolve_segments(_Db, _Segments, Hops) when Hops > ?MAX_REDIRECTS -> error;
resolve_segments(_Db, [Last], _Hops) -> {ok, Last};
resolve_segments(_Db, [<<"data">> | _] = Segments, _Hops) -> {ok, join_all(Segments)};
resolve_segments(Db, Segments, Hops) -> resolve_prefixes(Db, Segments, 1, Hops).

resolve_prefixes(_Db, Segments, N, _Hops) when N >= length(Segments) -> {ok, join_all(Segments)};
resolve_prefixes(Db, Segments, N, Hops) ->
    {Head, Tail} = lists:split(N, Segments),
    case lmdb_bench_nif:get(Db, join_all(Head)) of
        {ok, <<"link:", Target/binary>>} ->
            resolve_segments(Db, binary:split(Target, <<"/">>, [global]) ++ Tail, Hops + 1);
        _ ->
            resolve_prefixes(Db, Segments, N + 1, Hops)
    end.

join_all(Segments) -> iolist_to_binary(lists:join(<<"/">>, Segments)).

%% `{ok, Names}': the children of Path (of its target, if it is a link).
list(Db, Path) ->
    Resolved = case lmdb_bench_nif:get(Db, Path) of
        {ok, <<"link:", Target/binary>>} -> Target;
        _ -> Path
    end,
    Prefix = case Resolved of
        <<>> -> <<>>;
        _ -> case binary:last(Resolved) of
            $/ -> Resolved;
            _ -> <<Resolved/binary, "/">>
        end
    end,
    lmdb_bench_nif:list(Db, Prefix).

%% `simple', `composite' or `not_found', following a link at the path.
type(Db, Path) ->
    case lmdb_bench_nif:get(Db, Path) of
        {ok, <<"link:", Target/binary>>} -> type(Db, Target);
        {ok, <<"group">>} -> composite;
        {ok, _} -> simple;
        not_found -> not_found
    end.
