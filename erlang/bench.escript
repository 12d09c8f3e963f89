#!/usr/bin/env escript
%%! +S 2
%%% HyperBEAM's store benchmark workloads, through hb_store_hbstore from
%%% Erlang, each beside the same workload called directly in Rust (the rows
%%% of `hbstore-bench`, whose JSON is the argument), so that the ratio shows
%%% what the NIF costs. Run it as `./dev bench-erlang`.
-mode(compile).

-define(KEYS, 100000).
-define(READS, 100000).
-define(GROUPS, 10000).
-define(LISTS, 20000).
-define(MESSAGES, 50000).

main([RustJson]) ->
    Here = filename:dirname(escript:script_name()),
    true = code:add_patha(filename:join(Here, "_build/default/lib/hbstore/ebin")),
    {ok, Json} = file:read_file(RustJson),
    Rust = rust_rows(Json),
    Rows = lists:append([
        keys(Rust), lists(), messages(Rust, false), messages(Rust, true), processes(Rust)
    ]),
    io:format("~nhb_store_hbstore from Erlang (OTP ~s, ~B schedulers) beside the same work called in Rust~n~n",
        [erlang:system_info(otp_release), erlang:system_info(schedulers_online)]),
    io:format("| ~-44s | ~12s | ~12s | ~7s | ~-10s |~n", ["workload", "Erlang ops/s", "Rust ops/s", "ratio", "target"]),
    io:format("|~s|~s|~s|~s|~s|~n", [lists:duplicate(46, $-), lists:duplicate(14, $-),
        lists:duplicate(14, $-), lists:duplicate(9, $-), lists:duplicate(12, $-)]),
    [print(Row) || Row <- Rows],
    latencies(),
    ok;
main(_) ->
    io:format(standard_error, "usage: bench.escript RUST_BENCH_JSON~n", []),
    halt(2).

print({Name, Erlang, Rust, Target}) ->
    {RustText, RatioText, TargetText} =
        case Rust of
            undefined -> {"", "", ""};
            _ ->
                Ratio = Erlang / Rust,
                {integer_to_list(round(Rust)), io_lib:format("~.2f", [Ratio]),
                    case Target of
                        undefined -> "";
                        Min when Ratio >= Min -> io_lib:format(">= ~.1f holds", [Min]);
                        Min -> io_lib:format(">= ~.1f MISSED", [Min])
                    end}
        end,
    io:format("| ~-44s | ~12B | ~12s | ~7s | ~-10s |~n", [Name, round(Erlang), RustText, RatioText, TargetText]).

%% The figures of `hbstore-bench --json`, by workload name.
rust_rows(Json) ->
    {match, Found} = re:run(Json,
        "\"workload\": \"([^\"]+)\",\\s*\"unit\": \"[^\"]+\",\\s*\"hbstore\": ([0-9.eE+-]+)",
        [global, {capture, all_but_first, binary}]),
    maps:from_list([{Name, binary_to_number(Value)} || [Name, Value] <- Found]).

binary_to_number(B) ->
    try binary_to_float(B) catch error:badarg -> float(binary_to_integer(B)) end.

store() -> store(#{}).
store(Options) ->
    Dir = string:trim(os:cmd("mktemp -d /tmp/hbstore-bench-erlang-XXXXXX")),
    Options#{<<"store-module">> => hb_store_hbstore,
             <<"name">> => list_to_binary(filename:join(Dir, "store"))}.

%% Stops the store and removes its temporary directory.
finish(S) ->
    ok = hb_store_hbstore:stop(S, #{}, #{}),
    ok = file:del_dir_r(filename:dirname(binary_to_list(maps:get(<<"name">>, S)))).

timed(N, Fun) ->
    {Micros, _} = timer:tc(Fun),
    N / (Micros / 1.0e6).

key(I) -> <<"key-", (integer_to_binary(I))/binary>>.

-define(VALUE, <<"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG">>).

keys(Rust) ->
    S = store(),
    {ok, _} = hb_store_hbstore:start(S, #{}, #{}),
    Writes = timed(?KEYS, fun() ->
        [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, ?KEYS)]
    end),
    Picks = [key(rand:uniform(?KEYS)) || _ <- lists:seq(1, ?READS)],
    Reads = timed(?READS, fun() ->
        [{ok, _} = hb_store_hbstore:read(S, #{<<"read">> => K}, #{}) || K <- Picks]
    end),
    finish(S),
    Buffered = store(#{<<"durability">> => <<"buffered">>}),
    {ok, _} = hb_store_hbstore:start(Buffered, #{}, #{}),
    BufferedWrites = timed(?KEYS, fun() ->
        [ok = hb_store_hbstore:write(Buffered, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, ?KEYS)]
    end),
    finish(Buffered),
    [{"key write", Writes, maps:get(<<"key write (lmdb: txn per write)">>, Rust, undefined), 0.5},
        {"key write (durability buffered)", BufferedWrites, undefined, undefined},
        {"key read", Reads, maps:get(<<"key read">>, Rust, undefined), 0.5}].

lists() ->
    S = store(),
    Ids = [integer_to_binary(I) || I <- lists:seq(1, ?GROUPS)],
    [ok = hb_store_hbstore:write(S, maps:from_list(
        [{<<Id/binary, "/key-", (integer_to_binary(J))/binary>>, ?VALUE} || J <- lists:seq(1, 10)]), #{})
        || Id <- Ids],
    Picks = [lists:nth(rand:uniform(?GROUPS), Ids) || _ <- lists:seq(1, ?LISTS)],
    Lists = timed(?LISTS, fun() ->
        [{ok, [_ | _]} = hb_store_hbstore:list(S, #{<<"list">> => Id}, #{}) || Id <- Picks]
    end),
    finish(S),
    [{"list of a 10-child group", Lists, undefined, undefined}].

data_path(Value) ->
    <<"data/", (base64url(crypto:hash(sha256, Value)))/binary>>.

%% base64url without padding, HyperBEAM's form of ids (OTP 24 has no
%% options for base64:encode).
base64url(Bytes) ->
    Plain = base64:encode(Bytes),
    NoPad = binary:replace(Plain, <<"=">>, <<>>, [global]),
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= NoPad >>.

%% Messages written as HyperBEAM's cache writes them: one write of the
%% content-addressed values, one link request for the fields; read back
%% whole with one read of the message (its fields' values come with it).
messages(Rust, Nested) ->
    S = store(),
    Fields = fun(I) ->
        Base = [{<<"process">>, iolist_to_binary(io_lib:format("~32..0B", [I rem 500]))},
            {<<"slot">>, integer_to_binary(I div 50)}],
        case Nested of
            true -> Base ++ [{<<"message/body">>, <<"body of message ", (integer_to_binary(I))/binary>>}];
            false -> Base
        end
    end,
    Ids = [base64url(crypto:strong_rand_bytes(32)) || _ <- lists:seq(1, ?MESSAGES)],
    Indexed = lists:zip(lists:seq(1, ?MESSAGES), Ids),
    Writes = timed(?MESSAGES, fun() ->
        [begin
            F = Fields(I),
            ok = hb_store_hbstore:write(S, maps:from_list([{data_path(V), V} || {_, V} <- F]), #{}),
            ok = hb_store_hbstore:link(S, maps:from_list(
                [{<<Id/binary, "/", K/binary>>, data_path(V)} || {K, V} <- F]), #{})
        end || {I, Id} <- Indexed]
    end),
    Picks = [lists:nth(rand:uniform(?MESSAGES), Ids) || _ <- lists:seq(1, ?MESSAGES)],
    Expected = length(Fields(1)),
    Reads = timed(?MESSAGES, fun() -> [Expected = read_whole(S, Id) || Id <- Picks] end),
    finish(S),
    Form = case Nested of true -> "nested"; false -> "flat" end,
    RustWrite = iolist_to_binary([Form, " message write (", integer_to_list(Expected),
                                  " fields) (lmdb: txn per write)"]),
    RustRead = iolist_to_binary([Form, " message read, whole"]),
    [{Form ++ " message write (one write + one link)", Writes, maps:get(RustWrite, Rust, undefined), undefined},
        {Form ++ " message read, whole", Reads, maps:get(RustRead, Rust, undefined), undefined}].

%% The values of a message: one read of its group, whose linked fields'
%% values come in the same call; a nested group costs one more.
read_whole(S, Path) ->
    {composite, Children} = hb_store_hbstore:read(S, #{<<"read">> => Path}, #{}),
    lists:sum([case C of
        {_Name, _Value} -> 1;
        Name -> read_whole(S, <<Path/binary, "/", Name/binary>>)
    end || C <- Children]).

%% Random reads from 1, 2, 4 and 8 processes at once, with no process in
%% between them and the store.
processes(Rust) ->
    S = store(),
    [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, ?KEYS)],
    Rows = [begin
        Per = ?READS div N,
        Parent = self(),
        Rate = timed(Per * N, fun() ->
            Pids = [spawn_link(fun() ->
                rand:seed(exsss, {P, 2, 3}),
                [{ok, _} = hb_store_hbstore:read(S, #{<<"read">> => key(rand:uniform(?KEYS))}, #{})
                    || _ <- lists:seq(1, Per)],
                Parent ! {done, self()}
            end) || P <- lists:seq(1, N)],
            [receive {done, Pid} -> ok end || Pid <- Pids]
        end),
        RustName = case N of
            1 -> <<"key read">>;
            _ -> iolist_to_binary(["read, ", integer_to_list(N), " threads"])
        end,
        {lists:flatten(io_lib:format("key read, ~B processes", [N])), Rate,
            maps:get(RustName, Rust, undefined), undefined}
    end || N <- [1, 2, 4, 8]],
    finish(S),
    Rows.

%% What one call costs on a normal scheduler, the evidence for which calls
%% may run there (a NIF should return within about a millisecond): the
%% distribution of each normal-scheduler NIF's own time (answers of `busy',
%% which send the caller to the dirty variant, included), on a quiet store
%% and beside a process applying batches, which hold every writer off for
%% their whole transaction.
latencies() ->
    S = store(),
    N = 100000,
    Name = maps:get(<<"name">>, S),
    [ok = hb_store_hbstore:write(S, #{key(I) => ?VALUE}, #{}) || I <- lists:seq(1, N)],
    Quiet = normal_calls(Name, N),
    Writer = spawn_link(fun() -> batch_writer(S, 0) end),
    timer:sleep(100),
    Contended = normal_calls(Name, N),
    unlink(Writer),
    exit(Writer, kill),
    finish(S),
    io:format("~nOne call on a normal scheduler, microseconds (~B calls each; busy: "
        "answered `busy', the caller then uses the dirty variant):~n~n", [N]),
    io:format("| ~-46s | ~7s | ~7s | ~7s | ~8s | ~6s |~n",
        ["call", "median", "p99", "p99.9", "max", "busy"]),
    io:format("|~s|~s|~s|~s|~s|~s|~n", [lists:duplicate(48, $-), lists:duplicate(9, $-),
        lists:duplicate(9, $-), lists:duplicate(9, $-), lists:duplicate(10, $-), lists:duplicate(8, $-)]),
    [begin
        Sorted = lists:sort([Micros || {Micros, _} <- Calls]),
        Busy = length([busy || {_, busy} <- Calls]),
        At = fun(Q) -> lists:nth(max(1, round(Q * length(Sorted))), Sorted) end,
        io:format("| ~-46s | ~7.1f | ~7.1f | ~7.1f | ~8.1f | ~5.1f% |~n",
            [Call ++ When, At(0.5), At(0.99), At(0.999), lists:last(Sorted),
                100 * Busy / length(Calls)])
    end || {When, Rows} <- [{"", Quiet}, {", beside a batch writer", Contended}],
        {Call, Calls} <- Rows],
    ok.

%% Each normal-scheduler NIF, called directly `N' times, with its answer
%% (`busy' or anything else).
normal_calls(Name, N) ->
    Key = fun() -> key(rand:uniform(N)) end,
    Calls = [
        {"read (one key)", fun() -> hbstore_nif:read(Name, Key(), nil) end},
        {"type", fun() -> hbstore_nif:type(Name, Key()) end},
        {"resolve", fun() -> hbstore_nif:resolve(Name, Key()) end},
        {"write (one key, 43 B)", fun() -> hbstore_nif:write(Name, [{Key(), ?VALUE}]) end},
        {"link", fun() -> hbstore_nif:link(Name, [{<<"links/", (Key())/binary>>, Key()}]) end}
    ],
    [{Call, [timed_answer(Fun) || _ <- lists:seq(1, N)]} || {Call, Fun} <- Calls].

timed_answer(Fun) ->
    Start = erlang:monotonic_time(nanosecond),
    Answer = Fun(),
    Micros = (erlang:monotonic_time(nanosecond) - Start) / 1000,
    {Micros, case Answer of busy -> busy; _ -> done end}.

%% Applies batches of 500 writes, one after another, until killed.
batch_writer(S, Round) ->
    Prefix = <<"batches/", (integer_to_binary(Round))/binary, "/">>,
    ok = hb_store_hbstore:write(S, maps:from_list(
        [{<<Prefix/binary, (integer_to_binary(J))/binary>>, ?VALUE} || J <- lists:seq(1, 500)]), #{}),
    batch_writer(S, Round + 1).
