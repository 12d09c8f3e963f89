%%% @doc A HyperBEAM store on hbstore: paths, groups and links in one
%%% RocksDB database, through the `hbstore_nif' NIF.
%%%
%%% A node switches to it with one line of configuration:
%%% ```
%%% #{ <<"store-module">> => hb_store_hbstore, <<"name">> => <<"cache-mainnet/hbstore">> }
%%% '''
%%% `name' is the store's directory. Optional keys of the store message
%%% (unknown keys are ignored): `read-only' (default `false'), `durability'
%%% (what an acknowledged write survives: `process', the default, a killed
%%% node loses nothing; `sync', power loss too, an fsync per write (`sync
%%% => true' says the same); `buffered', writes held in memory and the log
%%% handed to the OS every `flush-ms' (default 100), so a kill loses at
%%% most that interval's writes and `stop' loses nothing: LMDB's trade as
%%% HyperBEAM makes it, with a bound), `compression'
%%% (`none', `lz4', `zstd' or `tiered', atom or binary; default `tiered':
%%% LZ4, and ZSTD with a trained dictionary on the last level),
%%% `memory-budget' (bytes: the store's caches and memtables together;
%%% default a quarter of the machine's memory), `block-cache-bytes' (the
%%% block cache alone, instead of its share of the budget), and `read-values' (a group read
%%% returns a child whose value is at most this many bytes as `{Name, Value}',
%%% following the child's link if it has one; `false' for names only;
%%% default 4096).
%%%
%%% On a Redis cluster instead of a directory (several nodes sharing one
%%% store; see the README's section on clusters), the store message names
%%% the cluster:
%%% ```
%%% #{ <<"store-module">> => hb_store_hbstore,
%%%    <<"cluster">> => <<"redis://10.0.0.1:7000,10.0.0.2:7000/hb">> }
%%% '''
%%% with optional `replicas' (each write waits until that many replicas
%%% have it; default 0) and `deadline-ms' (no call waits on the cluster
%%% longer; default 20000). A password goes in the address
%%% (`redis://:PASSWORD@HOST:PORT', or `USER:PASSWORD@' for Redis ACLs).
%%% `name' defaults to the address without its password; `scope' is then
%%% `remote', and every call runs on a dirty I/O scheduler.
%%%
%%% It implements the current `hb_store' behaviour, one request map per call
%%% (`Fun(StoreMsg, Req, NodeOpts)'), and the API before it (`read/2',
%%% `make_link/3', ...), with the same engine and semantics. Callers call the
%%% NIF directly: there is no process in the data path. Several stores may be
%%% open at once, one per `name'; the store message finds its open store by
%%% `name', and a call on a store that is not open opens it. No handle lives
%%% in an Erlang term: the NIF keeps its open stores by name, so nothing
%%% `hb_store' keeps in `persistent_term' can outlive or cut short a store.
%%%
%%% Links and writes act at the path's last segment, as every HyperBEAM
%%% store does: `link' of a path that is already a link re-points it (a
%%% value there is replaced), and `write' of a path that is a link replaces
%%% the link, never the value it points at. A group is never replaced.
%%%
%%% Results of the current API: `ok', `{ok, _}', `{composite, _}',
%%% `{error, not_found}' for what is not here, `{error, Reason}' for a
%%% request the store refuses (`Reason' names the rule and the path:
%%% `{invalid_path, Path, Why}', `{not_a_group, Path}', `{is_group, Path}',
%%% `{already_exists, Path}', `{link_loop, Path}', `{locked, Dir}',
%%% `{read_only, Dir}', `{open_with_other_options, Dir, Differences}', ...),
%%% and `{failure, Reason}' for an I/O fault. No input makes it raise.
%%%
%%% The API before 2026 answers in the shapes HyperBEAM's older callers
%%% (`hb_cache') match on: `read/2' gives `{ok, Value}' or `not_found',
%%% `type/2' `simple', `composite' or `not_found', `list/2' `{ok, Names}' or
%%% `not_found' (a path that cannot exist, or loops, is `not_found' too);
%%% writes `ok' or `{error, Reason}'. An I/O fault (a cluster that is down,
%%% a damaged entry) raises `{hbstore_failure, Reason}' there, which is how
%%% `hb_store' learns to try the next store.
-module(hb_store_hbstore).

%% The current hb_store behaviour.
-export([start/3, stop/3, reset/3, group/3, link/3, write/3, read/3]).
-export([type/3, list/3, resolve/3, match/3, scope/0, scope/1]).
%% The API before 2026 (write/3 is shared: a map second argument is a request).
-export([start/1, stop/1, reset/1, read/2, type/2, list/2, resolve/2]).
-export([make_group/2, make_link/3, path/2, add_path/3]).
%% For a node's monitoring.
-export([metrics/1, metrics_text/1]).

%% A write or link of one entry with a value up to this size, to a store
%% opened without `sync', runs on a normal scheduler; anything larger, or
%% more, on a dirty I/O scheduler (see the NIF's documentation).
-define(NORMAL_SCHEDULER_BYTES, 65536).
%% `list' with `<<"limit">> => batch' returns at most this many names.
-define(LIST_BATCH, 1000).
-define(DEFAULT_READ_VALUES, 4096).
%% How often a store with `durability => buffered' hands its log to the OS.
-define(DEFAULT_FLUSH_MS, 100).

-type store() :: #{binary() => term()}.
-type path() :: binary() | [binary()].
-type reason() :: term().
-type result() :: ok | {ok, term()} | {composite, list()} | {error, reason()} | {failure, reason()}.

%%% The current API.

%% @doc Opens the store (or finds it open) and returns its instance message,
%% the same for every start of the same `name'. It holds no handle: the NIF
%% keeps its open stores by name (see `hbstore_nif').
-spec start(store(), map(), map()) -> {ok, map()} | {error, reason()} | {failure, reason()}.
start(StoreMsg, _Req, _NodeOpts) ->
    case open(StoreMsg) of
        ok -> {ok, #{<<"store-module">> => ?MODULE, <<"name">> => name(StoreMsg)}};
        Refused -> Refused
    end.

%% @doc Closes the store, after the calls in flight; a later call opens it
%% again.
-spec stop(store(), map(), map()) -> ok.
stop(StoreMsg, _Req, _NodeOpts) ->
    case name(StoreMsg) of
        Name when is_binary(Name) -> guarded(fun hbstore_nif:close/1, Name), ok;
        _ -> ok
    end.

%% @doc Empties the store in place; it stays open.
-spec reset(store(), map(), map()) -> result().
reset(StoreMsg, _Req, _NodeOpts) ->
    call(StoreMsg, fun(H) -> hbstore_nif:reset(H) end).

%% @doc `#{<<"group">> => Path}': a group there and above it (`mkdir -p').
-spec group(store(), map(), map()) -> result().
group(StoreMsg, #{<<"group">> := Path}, _NodeOpts) ->
    call(StoreMsg, fun(H) -> hbstore_nif:group(H, Path) end);
group(_StoreMsg, Req, _NodeOpts) ->
    bad_request(group, Req).

%% @doc `#{New => Existing, ...}': every link, or none.
-spec link(store(), map(), map()) -> result().
link(StoreMsg, Req, _NodeOpts) when is_map(Req) ->
    apply_request(StoreMsg, Req, fun hbstore_nif:link/2, fun hbstore_nif:link_dirty/2);
link(_StoreMsg, Req, _NodeOpts) ->
    bad_request(link, Req).

%% @doc `#{Path => Value, ...}': every write, or none. With a binary or list
%% second argument, the API before 2026: `write(StoreMsg, Key, Value)'.
-spec write(store(), map() | path(), map() | binary()) -> result().
write(StoreMsg, Req, _NodeOpts) when is_map(Req), map_size(Req) == 1 ->
    % A node's most frequent write (one key, a small value, the store
    % open) goes straight to the NIF, as `read' does; anything else, or
    % anything it does not answer itself, takes the general way.
    Entries = maps:to_list(Req),
    case {name(StoreMsg), small_entry(Entries)} of
        {Name, true} when is_binary(Name), byte_size(Name) > 0 ->
            try hbstore_nif:write(Name, Entries) of
                ok -> ok;
                busy -> call(StoreMsg, fun(N) -> hbstore_nif:write_dirty(N, Entries) end);
                {error, {not_open, _}} -> write_through(StoreMsg, Req);
                Result when is_tuple(Result) -> Result;
                % remote: a store on a cluster writes on a dirty scheduler.
                _Elsewhere -> write_through(StoreMsg, Req)
            catch
                _:_ -> write_through(StoreMsg, Req)
            end;
        _ ->
            write_through(StoreMsg, Req)
    end;
write(StoreMsg, Req, _NodeOpts) when is_map(Req) ->
    write_through(StoreMsg, Req);
write(StoreMsg, Key, Value) ->
    older(write(StoreMsg, #{Key => Value}, #{})).

%% A write or link request, every entry or none: one small entry to a store
%% opened without `sync' on a normal scheduler (a few microseconds,
%% measured), anything more on a dirty I/O scheduler.
apply_request(_StoreMsg, Req, _Normal, _Dirty) when map_size(Req) == 0 ->
    ok;
apply_request(StoreMsg, Req, Normal, Dirty) ->
    Entries = maps:to_list(Req),
    % Whether the store itself lets a write run on a normal scheduler (it
    % fsyncs, or is on a cluster, or a lock is held) is the NIF's to say,
    % from the store that is open: it answers `busy' or `remote' then.
    Nif = case small_entry(Entries) of
        true -> Normal;
        false -> Dirty
    end,
    call(StoreMsg, fun(Name) -> normal_first(Nif, Dirty, Name, Entries) end).

%% `write' by `call': the store opened if it is not, arguments refused in
%% its terms, a batch or a large value on a dirty scheduler.
write_through(StoreMsg, Req) ->
    apply_request(StoreMsg, Req, fun hbstore_nif:write/2, fun hbstore_nif:write_dirty/2).

small_entry([{_Path, Value}]) when is_binary(Value) ->
    byte_size(Value) =< ?NORMAL_SCHEDULER_BYTES;
small_entry(_Entries) ->
    false.

%% @doc `#{<<"read">> => Path}': `{ok, Value}', `{composite, Children}' for a
%% group (a child `{Name, Value}' when its value came in the same scan, see
%% `read-values'), or `{error, not_found}'.
-spec read(store(), map(), map()) -> result().
read(StoreMsg, Req = #{<<"read">> := Path}, _NodeOpts) ->
    Default = store_option(StoreMsg, <<"read-values">>, ?DEFAULT_READ_VALUES),
    Inline = read_values(maps:get(<<"read-values">>, Req, Default)),
    % A node's most frequent call, so its common case (the store open,
    % the answer found on a normal scheduler) goes straight to the NIF,
    % without `call''s closure: that cost a read of a cached value from
    % Erlang a sixth of its time. Anything else takes the general way.
    case name(StoreMsg) of
        Name when is_binary(Name), byte_size(Name) > 0 ->
            try hbstore_nif:read(Name, Path, Inline) of
                {error, {not_open, _}} -> read_through(StoreMsg, Path, Inline);
                Result when is_tuple(Result) -> Result;
                % busy, remote or large_group: the dirty variant answers.
                _Elsewhere -> call(StoreMsg, fun(H) -> hbstore_nif:read_group(H, Path, Inline) end)
            catch
                % An argument refused, the NIF not loaded: `call' answers
                % in its terms.
                _:_ -> read_through(StoreMsg, Path, Inline)
            end;
        _ ->
            read_through(StoreMsg, Path, Inline)
    end;
read(_StoreMsg, Req, _NodeOpts) ->
    bad_request(read, Req).

%% `read' by `call': the store opened if it is not, arguments refused in
%% its terms, a group too large for a normal scheduler scanned on a dirty
%% one.
read_through(StoreMsg, Path, Inline) ->
    call(
        StoreMsg,
        fun(H) ->
            % One call on a normal scheduler answers a value or a small
            % group (a message); a large group is scanned on a dirty one.
            case hbstore_nif:read(H, Path, Inline) of
                Result when is_tuple(Result) -> Result;
                % busy, remote (the dirty variant answers) or large_group
                % (scanned there).
                _Elsewhere -> hbstore_nif:read_group(H, Path, Inline)
            end
        end
    ).

read_values(false) -> nil;
read_values(N) when is_integer(N), N >= 0 -> min(N, 1 bsl 64 - 1);
read_values(_) -> ?DEFAULT_READ_VALUES.

%% @doc `#{<<"type">> => Path}': `{ok, simple}', `{ok, composite}' or
%% `{error, not_found}'.
-spec type(store(), map(), map()) -> result().
type(StoreMsg, #{<<"type">> := Path}, _NodeOpts) ->
    call(StoreMsg, fun(H) -> normal_first(fun hbstore_nif:type/2, fun hbstore_nif:type_dirty/2, H, Path) end);
type(_StoreMsg, Req, _NodeOpts) ->
    bad_request(type, Req).

%% @doc `#{<<"list">> => Path}', with optional `<<"from">>' (a name,
%% inclusive, need not exist), `<<"limit">>' (an integer, `all' or `batch')
%% and `<<"direction">>' (`asc' or `desc'): `{ok, Names}' or
%% `{error, not_found}'.
-spec list(store(), map(), map()) -> result().
list(StoreMsg, Req = #{<<"list">> := Path}, _NodeOpts) ->
    From = case maps:get(<<"from">>, Req, nil) of
        F when is_binary(F) -> {ok, F};
        nil -> {ok, nil};
        undefined -> {ok, nil};
        Other -> {error, {badarg, {from, Other}}}
    end,
    Limit = case maps:get(<<"limit">>, Req, all) of
        N when is_integer(N), N >= 0 -> {ok, N};
        L when L == all; L == <<"all">> -> {ok, all};
        B when B == batch; B == <<"batch">> -> {ok, ?LIST_BATCH};
        % Request maps that came over HTTP carry numbers as binaries.
        Text when is_binary(Text) ->
            case string:to_integer(Text) of
                {N, <<>>} when is_integer(N), N >= 0 -> {ok, N};
                _ -> {error, {badarg, {limit, Text}}}
            end;
        OtherLimit -> {error, {badarg, {limit, OtherLimit}}}
    end,
    Direction = case maps:get(<<"direction">>, Req, asc) of
        D when D == asc; D == <<"asc">> -> {ok, asc};
        D when D == desc; D == <<"desc">> -> {ok, desc};
        OtherDirection -> {error, {badarg, {direction, OtherDirection}}}
    end,
    case {From, Limit, Direction} of
        {{ok, F1}, {ok, L1}, {ok, D1}} ->
            % As `read': the common case straight to the NIF, without
            % `call''s closure (a tenth of a list's time from Erlang).
            case name(StoreMsg) of
                Name when is_binary(Name), byte_size(Name) > 0 ->
                    try hbstore_nif:list(Name, Path, F1, L1, D1) of
                        {error, {not_open, _}} -> list_through(StoreMsg, Path, F1, L1, D1);
                        Answer when is_tuple(Answer) -> Answer;
                        % busy (a larger page, or it would wait) or remote
                        _Elsewhere ->
                            call(StoreMsg, fun(H) -> hbstore_nif:list_dirty(H, Path, F1, L1, D1) end)
                    catch
                        _:_ -> list_through(StoreMsg, Path, F1, L1, D1)
                    end;
                _ ->
                    list_through(StoreMsg, Path, F1, L1, D1)
            end;
        _ ->
            hd([E || E = {error, _} <- [From, Limit, Direction]])
    end;
list(_StoreMsg, Req, _NodeOpts) ->
    bad_request(list, Req).

%% `list' by `call': the store opened if it is not, arguments refused in
%% its terms, a large page read on a dirty scheduler.
list_through(StoreMsg, Path, From, Limit, Direction) ->
    call(StoreMsg, fun(H) ->
        case hbstore_nif:list(H, Path, From, Limit, Direction) of
            Answer when is_tuple(Answer) -> Answer;
            % busy (a larger page, or it would wait) or remote
            _Elsewhere -> hbstore_nif:list_dirty(H, Path, From, Limit, Direction)
        end
    end).

%% @doc `#{<<"resolve">> => Path}': `{ok, PhysicalPath}', every link on the
%% way followed.
-spec resolve(store(), map(), map()) -> result().
resolve(StoreMsg, #{<<"resolve">> := Path}, _NodeOpts) ->
    call(StoreMsg, fun(H) ->
        normal_first(fun hbstore_nif:resolve/2, fun hbstore_nif:resolve_dirty/2, H, Path)
    end);
resolve(_StoreMsg, Req, _NodeOpts) ->
    bad_request(resolve, Req).

%% @doc `#{Key => Target, ...}': `{ok, Groups}', the groups whose child `Key'
%% links to `Target' for every pair (messages by field value), from the
%% link index; `{error, not_found}' when none.
-spec match(store(), map() | list(), map()) -> result().
match(StoreMsg, Req, NodeOpts) when is_map(Req) ->
    match(StoreMsg, maps:to_list(Req), NodeOpts);
match(_StoreMsg, [], _NodeOpts) ->
    {error, not_found};
match(StoreMsg, Pairs, _NodeOpts) when is_list(Pairs) ->
    call(StoreMsg, fun(H) -> hbstore_nif:match(H, Pairs, nil) end);
match(_StoreMsg, Req, _NodeOpts) ->
    bad_request(match, Req).

%% @doc Where the store keeps its data: on this machine, or (a store
%% message naming a cluster) across the network.
-spec scope() -> local.
scope() -> local.
-spec scope(term()) -> local | remote.
scope(StoreMsg) when is_map(StoreMsg) ->
    case cluster(StoreMsg) of
        undefined -> local;
        _ -> remote
    end;
scope(_StoreMsg) -> local.

%%% Monitoring.

%% @doc The store's metrics as data: `{ok, #{Family => #{type => counter |
%% gauge | histogram, help => Text, samples => [{SampleName, Labels, Value}]}}}',
%% Prometheus' data model with its names (`hbstore_operations_total',
%% `hbstore_operation_duration_seconds', `hbstore_disk_bytes', ...; the
%% README's Monitoring section lists them). Counts of operations are this
%% node's since the store opened; a value is an integer when it is whole
%% and `undefined' when it is not a number yet (a hit ratio before the
%% first look-up).
-spec metrics(store()) -> {ok, map()} | {error, reason()} | {failure, reason()}.
metrics(StoreMsg) ->
    call(StoreMsg, fun(H) -> hbstore_nif:metrics(H) end).

%% @doc The same in Prometheus' text exposition format, for a node's
%% `/metrics' handler to append to its own: `{ok, Text}'.
-spec metrics_text(store()) -> {ok, binary()} | {error, reason()} | {failure, reason()}.
metrics_text(StoreMsg) ->
    call(StoreMsg, fun(H) -> hbstore_nif:metrics_text(H) end).

%%% The API before 2026.

-spec start(store()) -> {ok, map()} | {error, reason()} | {failure, reason()}.
start(StoreMsg) -> start(StoreMsg, #{}, #{}).

-spec stop(store()) -> ok.
stop(StoreMsg) -> stop(StoreMsg, #{}, #{}).

-spec reset(store()) -> result().
reset(StoreMsg) -> reset(StoreMsg, #{}, #{}).

%% @doc `{ok, Value}' or `not_found' (a group reads as `not_found').
-spec read(store(), path()) -> {ok, binary()} | not_found.
read(StoreMsg, Path) ->
    case older(read(StoreMsg, #{<<"read">> => Path, <<"read-values">> => false}, #{})) of
        {ok, Value} -> {ok, Value};
        _NotAValue -> not_found
    end.

%% @doc `simple', `composite' or `not_found'.
-spec type(store(), path()) -> simple | composite | not_found.
type(StoreMsg, Path) ->
    case older(type(StoreMsg, #{<<"type">> => Path}, #{})) of
        {ok, Type} -> Type;
        _NotThere -> not_found
    end.

%% @doc `{ok, Names}' or `not_found' (nothing there, or a value).
-spec list(store(), path()) -> {ok, [binary()]} | not_found.
list(StoreMsg, Path) ->
    case older(list(StoreMsg, #{<<"list">> => Path}, #{})) of
        {ok, Names} -> {ok, Names};
        _NotAGroup -> not_found
    end.

-spec make_group(store(), path()) -> ok | {error, reason()}.
make_group(StoreMsg, Path) -> older(group(StoreMsg, #{<<"group">> => Path}, #{})).

%% @doc A link at `New' to `Existing': a link already at `New' is re-pointed.
-spec make_link(store(), path(), path()) -> ok | {error, reason()}.
make_link(StoreMsg, Existing, New) -> older(link(StoreMsg, #{New => Existing}, #{})).

%% The API before 2026 raises on an I/O fault, so that `hb_store' tries the
%% next store (it does on an exception or `not_found'); a refusal stays an
%% answer.
older({failure, Reason}) -> erlang:error({hbstore_failure, Reason});
older(Result) -> Result.

%% @doc The physical path, as a binary (the path as given when it cannot be
%% resolved, as `hb_store_rocksdb' did).
-spec resolve(store(), path()) -> binary() | term().
resolve(StoreMsg, Path) ->
    case resolve(StoreMsg, #{<<"resolve">> => Path}, #{}) of
        {ok, Resolved} -> Resolved;
        _ -> Path
    end.

%% @doc The path's parts joined with `/', without touching the store.
-spec path(store(), path()) -> binary().
path(_StoreMsg, Path) when is_binary(Path) -> Path;
path(_StoreMsg, Parts) when is_list(Parts) ->
    iolist_to_binary(lists:join(<<"/">>, [to_binary(P) || P <- Parts])).

%% @doc Two paths joined, without touching the store.
-spec add_path(store(), path(), path()) -> binary().
add_path(StoreMsg, A, B) ->
    path(StoreMsg, [path(StoreMsg, A), path(StoreMsg, B)]).

%%% Opening: the NIF keeps one open store per name; the store message names it.

name(#{<<"name">> := Name}) when is_binary(Name) -> Name;
name(#{<<"cluster">> := _} = StoreMsg) when not is_map_key(<<"name">>, StoreMsg) ->
    % The address without its password, if it has one: a name shows up in
    % answers such as {error, {not_open, Name}}.
    case cluster(StoreMsg) of
        undefined -> undefined;
        Address ->
            case string:split(Address, <<"@">>, trailing) of
                [_Credentials, Hosts] -> <<"redis://", Hosts/binary>>;
                [_] -> Address
            end
    end;
name(#{<<"name">> := Name}) when is_list(Name) ->
    case unicode:characters_to_binary(Name) of
        Bin when is_binary(Bin) -> Bin;
        _ -> undefined
    end;
name(_StoreMsg) -> undefined.

%% The cluster a store message names, as a binary, or `undefined'.
cluster(#{<<"cluster">> := Address}) when is_binary(Address) -> Address;
cluster(#{<<"cluster">> := Address}) when is_list(Address) ->
    case unicode:characters_to_binary(Address) of
        Bin when is_binary(Bin) -> Bin;
        _ -> undefined
    end;
cluster(_StoreMsg) -> undefined.

open(StoreMsg) ->
    case {cluster(StoreMsg), name(StoreMsg)} of
        {Address, Name} when is_binary(Address), is_binary(Name), byte_size(Name) > 0 ->
            Replicas = case maps:get(<<"replicas">>, StoreMsg, 0) of
                R when is_integer(R), R >= 0, R < 1 bsl 32 -> R;
                _ -> 0
            end,
            Deadline = case maps:get(<<"deadline-ms">>, StoreMsg, nil) of
                D when is_integer(D), D > 0 -> D;
                _ -> nil
            end,
            guarded(fun(N) -> hbstore_nif:open_cluster(N, Address, Replicas, Deadline) end, Name);
        _ ->
            open_embedded(StoreMsg)
    end.

%% An option given with a value it cannot have is refused, naming it: a
%% `<<"sync">> => 1' taken for the default would silently skip the fsync
%% its writer asked for.
open_embedded(StoreMsg) ->
    Options = [option(StoreMsg, <<"read-only">>, false), durability(StoreMsg),
        compression(StoreMsg), bytes(StoreMsg, <<"block-cache-bytes">>),
        bytes(StoreMsg, <<"memory-budget">>)],
    case {name(StoreMsg), [Bad || {error, _} = Bad <- Options]} of
        {Name, []} when is_binary(Name), byte_size(Name) > 0 ->
            [ReadOnly, Durability, Compression, BlockCache, Budget] = [V || {ok, V} <- Options],
            guarded(
                fun(N) ->
                    hbstore_nif:open(N, ReadOnly, Durability, Compression, BlockCache, Budget)
                end,
                Name
            );
        {Name, [Bad | _]} when is_binary(Name), byte_size(Name) > 0 ->
            Bad;
        _ ->
            {error, {badarg, <<"a store message needs a name (its directory) or a cluster">>}}
    end.

%% A key of the store message, for a store message that may not be a map.
store_option(StoreMsg, Key, Default) when is_map(StoreMsg) ->
    maps:get(Key, StoreMsg, Default);
store_option(_StoreMsg, _Key, Default) ->
    Default.

option(StoreMsg, Key, Default) ->
    case store_option(StoreMsg, Key, Default) of
        B when B == true; B == <<"true">> -> {ok, true};
        B when B == false; B == <<"false">> -> {ok, false};
        Other -> {error, {badarg, {Key, Other}}}
    end.

compression(StoreMsg) ->
    case store_option(StoreMsg, <<"compression">>, tiered) of
        C when C == none; C == <<"none">> -> {ok, none};
        C when C == lz4; C == <<"lz4">> -> {ok, lz4};
        C when C == zstd; C == <<"zstd">> -> {ok, zstd};
        C when C == tiered; C == <<"tiered">> -> {ok, tiered};
        Other -> {error, {badarg, {<<"compression">>, Other}}}
    end.

%% `durability' (`process', `sync' or `buffered', atom or binary) with
%% `flush-ms' for `buffered' (default 100); `sync => true' is `durability
%% => sync', and contradicting it is refused, as is a `flush-ms' that
%% nothing would use.
durability(StoreMsg) ->
    Named = store_option(StoreMsg, <<"durability">>, undefined),
    FlushMs = store_option(StoreMsg, <<"flush-ms">>, undefined),
    case {option(StoreMsg, <<"sync">>, false), durability_name(Named)} of
        {{error, _} = Bad, _} -> Bad;
        {_, error} -> {error, {badarg, {<<"durability">>, Named}}};
        {{ok, true}, Name} when Name =/= undefined, Name =/= sync ->
            {error, {badarg, {<<"durability">>, Named, <<"contradicts sync => true">>}}};
        {{ok, true}, _} -> without_flush_ms(sync, FlushMs);
        {{ok, false}, undefined} -> without_flush_ms(process, FlushMs);
        {{ok, false}, buffered} -> buffered(FlushMs);
        {{ok, false}, Name} -> without_flush_ms(Name, FlushMs)
    end.

durability_name(undefined) -> undefined;
durability_name(D) when D == process; D == <<"process">> -> process;
durability_name(D) when D == sync; D == <<"sync">> -> sync;
durability_name(D) when D == buffered; D == <<"buffered">> -> buffered;
durability_name(_) -> error.

buffered(undefined) -> {ok, {buffered, ?DEFAULT_FLUSH_MS}};
buffered(Ms) when is_integer(Ms), Ms >= 1, Ms =< 3600000 -> {ok, {buffered, Ms}};
buffered(Other) -> {error, {badarg, {<<"flush-ms">>, Other}}}.

without_flush_ms(Durability, undefined) -> {ok, Durability};
without_flush_ms(_Durability, Ms) ->
    {error, {badarg, {<<"flush-ms">>, Ms, <<"applies to durability buffered only">>}}}.

%% A size in bytes, or `nil' when the message has none.
bytes(StoreMsg, Key) ->
    case store_option(StoreMsg, Key, nil) of
        nil -> {ok, nil};
        Bytes when is_integer(Bytes), Bytes >= 0 -> {ok, Bytes};
        Other -> {error, {badarg, {Key, Other}}}
    end.

%% Runs `Fun' on the store named by the message, opening it first if it is
%% not open (never started, or stopped). A NIF that refuses its arguments (a
%% term of the wrong type) answers `{error, {badarg, _}}'; a crash anywhere
%% becomes `{failure, _}': the caller never sees an exception.
call(StoreMsg, Fun) ->
    case name(StoreMsg) of
        Name when is_binary(Name), byte_size(Name) > 0 ->
            case guarded(Fun, Name) of
                {error, {not_open, _}} ->
                    case open(StoreMsg) of
                        ok -> guarded(Fun, Name);
                        Refused -> Refused
                    end;
                Result ->
                    Result
            end;
        _ ->
            {error, {badarg, <<"a store message needs a name (its directory) or a cluster">>}}
    end.

%% Calls the NIF that runs on a normal scheduler, which never waits: it
%% answers `busy' when it would have (a lock another writer holds, a read
%% from disk, a write stall, a large value, a store that fsyncs) and
%% `remote' for a store on a cluster; the variant on a dirty scheduler
%% answers instead. (`read' and `list' do the same inline: any atom they
%% answer sends the call to the dirty variant.) The NIFs come as funs, not
%% names: `apply/3' of a name cost a read from Erlang 8% of its time.
normal_first(Normal, Dirty, A, B) ->
    case Normal(A, B) of
        busy -> Dirty(A, B);
        remote -> Dirty(A, B);
        Result -> Result
    end.

guarded(Fun, Name) ->
    try
        Fun(Name)
    catch
        error:badarg ->
            {error, {badarg, <<"an argument of the wrong type: a path is a binary or a list "
                "of binaries; values, names and match keys are binaries">>}};
        Class:Reason -> {failure, {Class, Reason}}
    end.

bad_request(Function, Req) ->
    {error, {badarg, {Function, Req}}}.

to_binary(B) when is_binary(B) -> B;
to_binary(A) when is_atom(A) -> atom_to_binary(A, utf8);
to_binary(I) when is_integer(I) -> integer_to_binary(I);
to_binary(L) when is_list(L) -> unicode:characters_to_binary(L).
