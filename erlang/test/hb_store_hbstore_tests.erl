%%% @doc hb_store_hbstore, called exactly as hb_store calls a store module:
%%% `Fun(StoreMsg, Req, NodeOpts)' with HyperBEAM's request maps, and the
%%% API before 2026. Each test has a fresh store directory of its own, so
%%% the tests run in any order.
-module(hb_store_hbstore_tests).
-include_lib("eunit/include/eunit.hrl").

%% The tests of the contract, which hb_store_hbstore_cluster_tests runs
%% again on a Redis cluster.
-export([contract_tests/0]).

-define(M, hb_store_hbstore).

%%% Helpers.

%% A new store directory, under one directory per test run
%% (/tmp/hbstore-eunit-<OS pid>), so that the next run can remove what this
%% one leaves (a run's stores stay while it runs: some tests reopen them).
fresh_dir() ->
    Dir = filename:join([run_dir(), integer_to_list(erlang:unique_integer([positive])), "store"]),
    ok = filelib:ensure_dir(Dir),
    list_to_binary(Dir).

run_dir() ->
    case persistent_term:get({?MODULE, run_dir}, undefined) of
        undefined ->
            remove_finished_runs(),
            Dir = "/tmp/hbstore-eunit-" ++ os:getpid(),
            persistent_term:put({?MODULE, run_dir}, Dir),
            Dir;
        Dir ->
            Dir
    end.

%% The directories of runs whose VM is gone.
remove_finished_runs() ->
    [os:cmd("rm -rf '" ++ D ++ "'")
     || D <- filelib:wildcard("/tmp/hbstore-eunit-*"),
        not filelib:is_dir("/proc/" ++ lists:last(string:split(D, "-", trailing)))].

store() -> store(#{}).
store(Options) ->
    maps:merge(base_store(), Options).

%% A fresh directory, or, while hb_store_hbstore_cluster_tests runs these
%% tests, a fresh namespace on its cluster.
base_store() ->
    case persistent_term:get({?MODULE, cluster}, undefined) of
        undefined ->
            #{<<"store-module">> => ?M, <<"name">> => fresh_dir()};
        Address ->
            Namespace = integer_to_binary(erlang:unique_integer([positive])),
            #{<<"store-module">> => ?M,
              <<"cluster">> => <<Address/binary, "/eunit-", Namespace/binary>>}
    end.

contract_tests() ->
    [write_then_read_test_(), paths_as_lists_of_binaries_test_(),
     groups_are_composite_and_read_as_composite_test_(),
     a_link_reads_through_to_a_value_test_(), a_chain_of_links_resolves_test_(),
     a_link_to_a_group_is_read_through_as_link_and_child_test_(),
     a_link_to_a_fragment_resolves_below_it_test_(),
     a_link_loop_is_an_error_not_a_hang_test_(), list_bounds_test_(),
     a_write_batch_is_all_or_nothing_test_(), a_link_batch_is_all_or_nothing_test_(),
     a_link_made_again_points_at_the_new_target_test_(),
     a_write_over_a_link_replaces_the_link_not_its_target_test_(),
     list_limit_as_a_binary_test_(),
     match_finds_messages_by_field_value_test_(), reset_empties_the_store_in_place_test_(),
     hostile_input_gets_an_answer_test_(), many_processes_write_and_read_at_once_test_(),
     fun the_older_api_test/0].

%% A test with a fresh store, stopped afterwards, titled with the name of
%% the generator that made it.
-define(WITH_STORE(Test), with_store(?FUNCTION_NAME, Test)).

with_store(Title, Test) ->
    {atom_to_list(Title),
        {setup, fun() -> S = store(), {ok, _} = ?M:start(S, #{}, #{}), S end,
            fun(S) -> ?M:stop(S, #{}, #{}) end, fun(S) -> fun() -> Test(S) end end}}.

w(S, Map) -> ?M:write(S, Map, #{}).
r(S, Path) -> ?M:read(S, #{<<"read">> => Path}, #{}).
l(S, Req) -> ?M:list(S, Req, #{}).
t(S, Path) -> ?M:type(S, #{<<"type">> => Path}, #{}).
lnk(S, Map) -> ?M:link(S, Map, #{}).

%% A message as HyperBEAM's cache writes it: each field's value at
%% data/<hash>, and the field a link to it, in one write and one link.
message(S, Id, Fields) ->
    Data = maps:from_list([{data_path(V), V} || {_, V} <- Fields]),
    ok = w(S, Data),
    ok = lnk(S, maps:from_list([{<<Id/binary, "/", K/binary>>, data_path(V)} || {K, V} <- Fields])).

data_path(Value) ->
    <<"data/", (base64url(crypto:hash(sha256, Value)))/binary>>.

%% base64url without padding, HyperBEAM's form of ids (OTP 24 has no
%% options for base64:encode).
base64url(Bytes) ->
    Plain = base64:encode(Bytes),
    NoPad = binary:replace(Plain, <<"=">>, <<>>, [global]),
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= NoPad >>.

%%% Reads and writes.

write_then_read_test_() ->
    ?WITH_STORE(fun(S) ->
        ?assertEqual(ok, w(S, #{<<"key">> => <<"value">>})),
        ?assertEqual({ok, <<"value">>}, r(S, <<"key">>)),
        ?assertEqual({ok, <<"value">>}, r(S, [<<"key">>])),
        ?assertEqual({error, not_found}, r(S, <<"missing">>)),
        ?assertEqual({ok, simple}, t(S, <<"key">>)),
        ?assertEqual({error, not_found}, t(S, <<"missing">>))
    end).

paths_as_lists_of_binaries_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{[<<"a">>, <<"b">>, <<"c">>] => <<"deep">>}),
        ?assertEqual({ok, <<"deep">>}, r(S, <<"a/b/c">>)),
        ?assertEqual({ok, [<<"c">>]}, l(S, #{<<"list">> => [<<"a">>, <<"b">>]}))
    end).

groups_are_composite_and_read_as_composite_test_() ->
    ?WITH_STORE(fun(S) ->
        ?assertEqual(ok, ?M:group(S, #{<<"group">> => <<"colors">>}, #{})),
        ?assertEqual({ok, composite}, t(S, <<"colors">>)),
        ?assertEqual({composite, []}, r(S, <<"colors">>)),
        ok = w(S, #{<<"colors/red">> => <<"1">>, <<"colors/blue">> => <<"2">>}),
        ?assertEqual({composite, [{<<"blue">>, <<"2">>}, {<<"red">>, <<"1">>}]},
            r(S, <<"colors">>)),
        ?assertEqual({composite, [<<"blue">>, <<"red">>]},
            ?M:read(S, #{<<"read">> => <<"colors">>, <<"read-values">> => false}, #{}))
    end).

%%% Links, as HyperBEAM's own store tests use them.

a_link_reads_through_to_a_value_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"foo/bar/baz">> => <<"Bam">>}),
        ok = lnk(S, #{<<"foo/beep/baz">> => <<"foo/bar/baz">>}),
        ?assertEqual({ok, <<"Bam">>}, r(S, <<"foo/beep/baz">>))
    end).

a_chain_of_links_resolves_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"base">> => <<"chained">>}),
        ok = lnk(S, #{<<"link1">> => <<"base">>}),
        ok = lnk(S, #{<<"link2">> => <<"link1">>}),
        ?assertEqual({ok, <<"chained">>}, r(S, <<"link2">>)),
        ?assertEqual({ok, <<"base">>}, ?M:resolve(S, #{<<"resolve">> => <<"link2">>}, #{}))
    end).

a_link_to_a_group_is_read_through_as_link_and_child_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"group/child">> => <<"inside">>}),
        ok = lnk(S, #{<<"alias">> => <<"group">>}),
        ?assertEqual({ok, <<"inside">>}, r(S, [<<"alias">>, <<"child">>])),
        ?assertEqual({ok, composite}, t(S, <<"alias">>)),
        ?assertEqual({ok, [<<"child">>]}, l(S, #{<<"list">> => <<"alias">>})),
        ?assertEqual({ok, <<"group/child">>},
            ?M:resolve(S, #{<<"resolve">> => <<"alias/child">>}, #{}))
    end).

a_link_to_a_fragment_resolves_below_it_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{[<<"data">>, <<"bar">>, <<"baz">>] => <<"Bam">>}),
        ok = lnk(S, #{<<"my-link">> => [<<"data">>, <<"bar">>]}),
        ?assertEqual({ok, <<"Bam">>}, r(S, [<<"my-link">>, <<"baz">>]))
    end).

a_link_loop_is_an_error_not_a_hang_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = lnk(S, #{<<"a">> => <<"b">>}),
        ok = lnk(S, #{<<"b">> => <<"a">>}),
        ?assertMatch({error, {link_loop, _}}, r(S, <<"a">>))
    end).

%%% Lists.

list_bounds_test_() ->
    ?WITH_STORE(fun(S) ->
        Names = [iolist_to_binary(io_lib:format("k~4..0B", [I])) || I <- lists:seq(0, 1499)],
        ok = w(S, maps:from_list([{<<"big/", N/binary>>, <<"v">>} || N <- Names])),
        {ok, All} = l(S, #{<<"list">> => <<"big">>}),
        ?assertEqual(Names, All),
        ?assertEqual({ok, [<<"k0500">>, <<"k0501">>]},
            l(S, #{<<"list">> => <<"big">>, <<"from">> => <<"k0500">>, <<"limit">> => 2})),
        ?assertEqual({ok, [<<"k0500">>, <<"k0499">>]},
            l(S, #{<<"list">> => <<"big">>, <<"from">> => <<"k0500">>, <<"limit">> => 2,
                <<"direction">> => desc})),
        ?assertEqual({ok, [<<"k0500">>, <<"k0499">>]},
            l(S, #{<<"list">> => <<"big">>, <<"from">> => <<"k0500">>, <<"limit">> => 2,
                <<"direction">> => <<"desc">>})),
        ?assertEqual({ok, [<<"k0501">>]},
            l(S, #{<<"list">> => <<"big">>, <<"from">> => <<"k05005">>, <<"limit">> => 1})),
        {ok, Batch} = l(S, #{<<"list">> => <<"big">>, <<"limit">> => batch}),
        ?assertEqual(1000, length(Batch)),
        {ok, Rest} = l(S, #{<<"list">> => <<"big">>, <<"from">> => lists:last(Batch),
            <<"limit">> => batch}),
        ?assertEqual(501, length(Rest), "from is inclusive: the last name again"),
        ?assertEqual({ok, []}, l(S, #{<<"list">> => <<"big">>, <<"limit">> => 0})),
        ?assertEqual({error, not_found}, l(S, #{<<"list">> => <<"nothing">>})),
        ?assertMatch({error, {badarg, _}}, l(S, #{<<"list">> => <<"big">>, <<"limit">> => -1})),
        ?assertMatch({error, {badarg, _}},
            l(S, #{<<"list">> => <<"big">>, <<"direction">> => sideways}))
    end).

%% A list of a message-sized group answers on a normal scheduler; a page
%% of more than 64 children answers `busy' there, and the module takes it
%% to a dirty scheduler.
a_small_list_answers_at_once_a_large_one_goes_dirty_test_() ->
    ?WITH_STORE(fun(S) ->
        Name = maps:get(<<"name">>, S),
        Group = fun(G, N) -> maps:from_list(
            [{<<G/binary, "/", (integer_to_binary(I))/binary>>, <<"v">>} || I <- lists:seq(1, N)]) end,
        ok = w(S, Group(<<"small">>, 10)),
        ok = w(S, Group(<<"edge">>, 64)),
        ok = w(S, Group(<<"large">>, 65)),
        ?assertMatch({ok, [_, _, _, _, _, _, _, _, _, _]},
            hbstore_nif:list(Name, <<"small">>, nil, all, asc)),
        {ok, Edge} = hbstore_nif:list(Name, <<"edge">>, nil, all, asc),
        ?assertEqual(64, length(Edge)),
        ?assertEqual(busy, hbstore_nif:list(Name, <<"large">>, nil, all, asc)),
        ?assertEqual(busy, hbstore_nif:list(Name, <<"large">>, nil, 100, asc)),
        ?assertMatch({ok, [<<"1">>, <<"10">>, <<"11">>]},
            hbstore_nif:list(Name, <<"large">>, nil, 3, asc)),
        {ok, All} = hbstore_nif:list_dirty(Name, <<"large">>, nil, all, asc),
        ?assertEqual(65, length(All)),
        ?assertEqual({ok, All}, l(S, #{<<"list">> => <<"large">>})),
        ?assertEqual({error, not_found}, hbstore_nif:list(Name, <<"nothing">>, nil, all, asc)),
        ?assertMatch({error, {badarg, _}}, hbstore_nif:list(Name, <<"small">>, nil, -1, asc))
    end).

%%% Batches: all or nothing.

a_write_batch_is_all_or_nothing_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"v">> => <<"a value">>}),
        ?assertMatch({error, {not_a_group, _}},
            w(S, #{<<"fine">> => <<"1">>, <<"v/below">> => <<"2">>})),
        ?assertEqual({error, not_found}, r(S, <<"fine">>)),
        ?assertEqual(ok, w(S, #{<<"m/a">> => <<"1">>, <<"m/b">> => <<"2">>, <<"m/c/d">> => <<"3">>})),
        ?assertEqual({ok, [<<"a">>, <<"b">>, <<"c">>]}, l(S, #{<<"list">> => <<"m">>}))
    end).

a_link_batch_is_all_or_nothing_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"taken/child">> => <<"a value">>}),
        ?assertMatch({error, {already_exists, <<"taken">>}},
            lnk(S, #{<<"new-link">> => <<"t1">>, <<"taken">> => <<"t2">>})),
        ?assertEqual({error, not_found}, t(S, <<"new-link">>)),
        ?assertEqual({ok, <<"new-link">>}, ?M:resolve(S, #{<<"resolve">> => <<"new-link">>}, #{}))
    end).

%%% Links re-pointed, links replaced: as every HyperBEAM store does.

a_link_made_again_points_at_the_new_target_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"t1">> => <<"one">>, <<"t2">> => <<"two">>}),
        ?assertEqual(ok, lnk(S, #{<<"a">> => <<"t1">>})),
        ?assertEqual(ok, lnk(S, #{<<"a">> => <<"t2">>})),
        ?assertEqual({ok, <<"two">>}, r(S, <<"a">>)),
        ?assertEqual({ok, <<"t2">>}, ?M:resolve(S, #{<<"resolve">> => <<"a">>}, #{})),
        % The older API too, and the scheduler location cache's way: a
        % link per location move, each answering ok.
        ?assertEqual(ok, ?M:make_link(S, <<"t1">>, <<"a">>)),
        ?assertEqual({ok, <<"one">>}, ?M:read(S, <<"a">>)),
        % A value is replaced by a link; a group is not.
        ok = w(S, #{<<"v">> => <<"plain">>, <<"g/child">> => <<"x">>}),
        ?assertEqual(ok, lnk(S, #{<<"v">> => <<"t2">>})),
        ?assertEqual({ok, <<"two">>}, r(S, <<"v">>)),
        ?assertMatch({error, {already_exists, <<"g">>}}, lnk(S, #{<<"g">> => <<"t1">>})),
        ?assertEqual({ok, [<<"child">>]}, l(S, #{<<"list">> => <<"g">>}))
    end).

a_write_over_a_link_replaces_the_link_not_its_target_test_() ->
    ?WITH_STORE(fun(S) ->
        % Two messages sharing one content-addressed value.
        message(S, <<"m1">>, [{<<"body">>, <<"shared">>}]),
        message(S, <<"m2">>, [{<<"body">>, <<"shared">>}]),
        ?assertEqual(ok, w(S, #{<<"m1/body">> => <<"own">>})),
        ?assertEqual({ok, <<"own">>}, r(S, <<"m1/body">>)),
        ?assertEqual({ok, <<"shared">>}, r(S, <<"m2/body">>)),
        ?assertEqual({ok, <<"shared">>}, r(S, data_path(<<"shared">>))),
        % The older API's write does the same.
        ?assertEqual(ok, ?M:write(S, <<"m2/body">>, <<"own too">>)),
        ?assertEqual({ok, <<"shared">>}, r(S, data_path(<<"shared">>))),
        % match no longer finds a message whose field is a value now.
        ?assertEqual({error, not_found},
            ?M:match(S, #{<<"body">> => data_path(<<"shared">>)}, #{}))
    end).

list_limit_as_a_binary_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"g/a">> => <<"1">>, <<"g/b">> => <<"2">>, <<"g/c">> => <<"3">>}),
        % Request maps that come over HTTP carry numbers as binaries.
        ?assertEqual({ok, [<<"a">>, <<"b">>]}, l(S, #{<<"list">> => <<"g">>, <<"limit">> => <<"2">>})),
        ?assertEqual(l(S, #{<<"list">> => <<"g">>, <<"limit">> => 2}),
            l(S, #{<<"list">> => <<"g">>, <<"limit">> => <<"2">>})),
        ?assertMatch({error, {badarg, {limit, <<"-1">>}}},
            l(S, #{<<"list">> => <<"g">>, <<"limit">> => <<"-1">>})),
        ?assertMatch({error, {badarg, {limit, <<"2x">>}}},
            l(S, #{<<"list">> => <<"g">>, <<"limit">> => <<"2x">>}))
    end).

%%% Match.

match_finds_messages_by_field_value_test_() ->
    ?WITH_STORE(fun(S) ->
        message(S, <<"m1">>, [{<<"process">>, <<"p1">>}, {<<"slot">>, <<"1">>}]),
        message(S, <<"m2">>, [{<<"process">>, <<"p1">>}, {<<"slot">>, <<"2">>}]),
        message(S, <<"m3">>, [{<<"process">>, <<"p2">>}, {<<"slot">>, <<"1">>}]),
        P1 = data_path(<<"p1">>),
        ?assertEqual({ok, [<<"m1">>, <<"m2">>]},
            ?M:match(S, #{<<"process">> => P1}, #{})),
        ?assertEqual({ok, [<<"m1">>]},
            ?M:match(S, #{<<"process">> => P1, <<"slot">> => data_path(<<"1">>)}, #{})),
        ?assertEqual({error, not_found}, ?M:match(S, #{<<"process">> => <<"data/none">>}, #{})),
        ?assertEqual({error, not_found}, ?M:match(S, #{}, #{})),
        % A whole message in one read, its fields' values through their links.
        ?assertEqual({composite, [{<<"process">>, <<"p1">>}, {<<"slot">>, <<"1">>}]},
            r(S, <<"m1">>))
    end).

%%% Several stores, restarts, the registry.

two_stores_at_once_are_separate_test() ->
    A = store(), B = store(),
    ok = w(A, #{<<"k">> => <<"in a">>}),
    ok = w(B, #{<<"k">> => <<"in b">>}),
    ?assertEqual({ok, <<"in a">>}, r(A, <<"k">>)),
    ?assertEqual({ok, <<"in b">>}, r(B, <<"k">>)),
    ok = ?M:stop(A, #{}, #{}), ok = ?M:stop(B, #{}, #{}).

starting_twice_gives_the_same_instance_test() ->
    S = store(),
    {ok, I1} = ?M:start(S, #{}, #{}),
    {ok, I2} = ?M:start(S, #{}, #{}),
    ?assertEqual(I1, I2),
    ok = ?M:stop(S, #{}, #{}).

a_store_never_started_or_stopped_opens_on_demand_test() ->
    S = store(),
    ?assertEqual(ok, w(S, #{<<"k">> => <<"v">>})),
    ok = ?M:stop(S, #{}, #{}),
    ?assertEqual(ok, ?M:stop(S, #{}, #{})),
    ?assertEqual({ok, <<"v">>}, r(S, <<"k">>)),
    ok = ?M:stop(S, #{}, #{}).

a_store_closed_elsewhere_reopens_on_the_next_call_test() ->
    S = #{<<"name">> := Name} = store(),
    {ok, _} = ?M:start(S, #{}, #{}),
    ok = w(S, #{<<"k">> => <<"v">>}),
    ok = hbstore_nif:close(Name),
    ?assertMatch({error, {not_open, _}}, hbstore_nif:read(Name, <<"k">>, nil)),
    ?assertEqual({ok, <<"v">>}, r(S, <<"k">>)),
    ok = hbstore_nif:close(Name),
    ?assertEqual({ok, [<<"k">>]}, ?M:list(S, #{<<"list">> => <<>>}, #{})),
    ok = hbstore_nif:close(Name),
    ?assertEqual(ok, w(S, #{<<"k2">> => <<"v2">>})),
    ?assertEqual({ok, <<"v2">>}, r(S, <<"k2">>)),
    ok = ?M:stop(S, #{}, #{}).

%% The failure that shaped the registry: on OTP 25, a NIF resource kept in
%% persistent_term (as hb_store keeps instance messages) was freed while
%% still referenced. Instance messages hold no resource, so keeping them
%% there, erasing them and collecting garbage changes nothing.
instance_messages_in_persistent_term_are_harmless_test() ->
    [begin
        S = store(),
        {ok, Instance} = ?M:start(S, #{}, #{}),
        persistent_term:put({?MODULE, S}, Instance),
        ok = w(S, #{<<"k">> => <<"v">>}),
        persistent_term:erase({?MODULE, S}),
        erlang:garbage_collect(),
        ?assertEqual({ok, <<"v">>}, r(S, <<"k">>)),
        ok = ?M:stop(S, #{}, #{})
    end || _ <- lists:seq(1, 20)].

what_is_written_survives_a_restart_test() ->
    S = store(),
    ok = w(S, #{<<"persisted/value">> => <<"kept">>}),
    ok = lnk(S, #{<<"alias">> => <<"persisted">>}),
    ok = ?M:stop(S, #{}, #{}),
    {ok, _} = ?M:start(S, #{}, #{}),
    ?assertEqual({ok, <<"kept">>}, r(S, <<"alias/value">>)),
    ok = ?M:stop(S, #{}, #{}).

reset_empties_the_store_in_place_test_() ->
    ?WITH_STORE(fun(S) ->
        ok = w(S, #{<<"a/b">> => <<"1">>}),
        ?assertEqual(ok, ?M:reset(S, #{}, #{})),
        ?assertEqual({error, not_found}, r(S, <<"a/b">>)),
        ?assertEqual(ok, w(S, #{<<"a/b">> => <<"2">>})),
        ?assertEqual({ok, <<"2">>}, r(S, <<"a/b">>))
    end).

a_read_only_store_refuses_writes_test() ->
    S = store(),
    ok = w(S, #{<<"k">> => <<"v">>}),
    ok = ?M:stop(S, #{}, #{}),
    RO = S#{<<"read-only">> => true},
    ?assertEqual({ok, <<"v">>}, r(RO, <<"k">>)),
    ?assertMatch({error, {read_only, _}}, w(RO, #{<<"k2">> => <<"v">>})),
    ok = ?M:stop(RO, #{}, #{}).

options_are_read_and_unknown_ones_ignored_test() ->
    S = store(#{<<"sync">> => true, <<"compression">> => <<"zstd">>,
        <<"block-cache-bytes">> => 8388608, <<"memory-budget">> => 268435456,
        <<"no-such-option">> => 42}),
    ?assertEqual(ok, w(S, #{<<"k">> => <<"synced">>})),
    ?assertEqual({ok, <<"synced">>}, r(S, <<"k">>)),
    ok = ?M:stop(S, #{}, #{}),
    %% Every compression opens the same store (files may mix them).
    [begin
         C = S#{<<"compression">> => Compression},
         ?assertEqual({ok, <<"synced">>}, r(C, <<"k">>)),
         ok = w(C, #{Compression => <<"v">>}),
         ok = ?M:stop(C, #{}, #{})
     end || Compression <- [<<"none">>, <<"lz4">>, <<"tiered">>, <<"zstd">>]].

a_second_open_with_other_options_is_refused_test() ->
    S = store(),
    {ok, _} = ?M:start(S, #{}, #{}),
    ok = w(S, #{<<"k">> => <<"v">>}),
    % The first opener's options would otherwise win silently.
    Synced = S#{<<"sync">> => true},
    ?assertMatch({error, {open_with_other_options, _, [<<"durability", _/binary>>]}},
        ?M:start(Synced, #{}, #{})),
    ?assertMatch({error, {open_with_other_options, _, [<<"read-only", _/binary>>]}},
        ?M:start(S#{<<"read-only">> => true}, #{}, #{})),
    % The same options, spelled differently, are the same store.
    ?assertMatch({ok, _}, ?M:start(S#{<<"sync">> => <<"false">>}, #{}, #{})),
    % Calls find the open store by name, as it was opened.
    ?assertEqual({ok, <<"v">>}, r(Synced, <<"k">>)),
    ok = ?M:stop(S, #{}, #{}),
    % Once stopped, it opens with the new options.
    ?assertEqual({ok, <<"v">>}, r(Synced, <<"k">>)),
    ok = ?M:stop(Synced, #{}, #{}).

%% H1 of the December review: opening one store (here a cluster address
%% that accepts connections and never answers, so its open waits out its
%% deadline) must not hold up calls on another, open store.
calls_on_an_open_store_never_wait_for_another_store_opening_test_() ->
    {"calls on an open store never wait for another store's open", {timeout, 60, fun() ->
        S = store(#{}),
        ok = w(S, #{<<"k">> => <<"v">>}),
        {ok, Silent} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}, {backlog, 16}]),
        {ok, Port} = inet:port(Silent),
        Stuck = #{<<"store-module">> => ?M, <<"deadline-ms">> => 3000,
            <<"cluster">> => iolist_to_binary(["redis://127.0.0.1:", integer_to_list(Port)])},
        Parent = self(),
        Opener = spawn(fun() ->
            T0 = erlang:monotonic_time(millisecond),
            Result = ?M:start(Stuck, #{}, #{}),
            Parent ! {opened, Result, erlang:monotonic_time(millisecond) - T0}
        end),
        timer:sleep(200),
        % While that open waits, every call on S answers at once.
        Slowest = lists:max([begin
            T0 = erlang:monotonic_time(microsecond),
            {ok, <<"v">>} = r(S, <<"k">>),
            ok = w(S, #{<<"k2">> => <<"v">>}),
            erlang:monotonic_time(microsecond) - T0
        end || _ <- lists:seq(1, 1000)]),
        ?assert(is_process_alive(Opener)),
        receive {opened, Result, Took} ->
            ?assertMatch({failure, _}, Result),
            ?assert(Took >= 2000),
            % A read and a write take microseconds; the open took seconds.
            ?assert(Slowest * 10 < Took * 1000)
        after 30000 -> error(open_never_ended)
        end,
        gen_tcp:close(Silent),
        ok = ?M:stop(S, #{}, #{})
    end}}.

an_option_with_a_value_it_cannot_have_is_refused_test() ->
    [?assertMatch({error, {badarg, {Key, _}}}, ?M:start(store(#{Key => Value}), #{}, #{}))
     || {Key, Value} <- [{<<"sync">>, 1}, {<<"read-only">>, <<"yes">>},
            {<<"compression">>, <<"brotli">>}, {<<"block-cache-bytes">>, -1},
            {<<"memory-budget">>, <<"lots">>}]].

%% H2 of the December review: a call on a normal scheduler never waits for
%% a batch (which holds every writer off for its whole transaction); it
%% answers `busy' at once, and hb_store_hbstore repeats it on a dirty one.
normal_scheduler_writes_never_wait_for_a_batch_test_() ->
    {"normal-scheduler writes never wait for a batch", {timeout, 120, fun() ->
        S = store(),
        Name = maps:get(<<"name">>, S),
        {Calls, Batches} = beside_batches(S, 20000, fun() ->
            [begin
                T0 = erlang:monotonic_time(microsecond),
                Answer = hbstore_nif:write(Name, [{<<"single/", (integer_to_binary(I))/binary>>, <<"v">>}]),
                {erlang:monotonic_time(microsecond) - T0, Answer}
            end || I <- lists:seq(1, 20000)]
        end),
        Busy = length([busy || {_, busy} <- Calls]),
        ?assert(Busy > 0),
        ?assertEqual([], [A || {_, A} <- Calls, A =/= ok, A =/= busy]),
        Sorted = lists:sort([Us || {Us, _} <- Calls]),
        P99 = lists:nth(length(Sorted) * 99 div 100, Sorted),
        % Had a call waited for a batch, it would take as long as one.
        ?assert(P99 < lists:min(Batches)),
        % Through the module, every write lands, busy or not.
        ?assertEqual(ok, w(S, #{<<"after">> => <<"v">>})),
        ok = ?M:stop(S, #{}, #{})
    end}}.

%% A single write through the module that finds its locks held (`busy' on
%% a normal scheduler) is made on a dirty one: every one lands.
module_writes_land_beside_batches_test_() ->
    {"module writes land beside batches", {timeout, 120, fun() ->
        S = store(),
        Keys = [<<"b/single", (integer_to_binary(I))/binary>> || I <- lists:seq(1, 5000)],
        {Answers, _} = beside_batches(S, 5000, fun() -> [w(S, #{K => K}) || K <- Keys] end),
        ?assertEqual([], [A || A <- Answers, A =/= ok]),
        ?assertEqual([], [K || K <- Keys, r(S, K) =/= {ok, K}]),
        ok = ?M:stop(S, #{}, #{})
    end}}.

%% Runs `Fun' while another process applies batches of `Size' writes to
%% `S' back to back (the first one done before `Fun' starts); `Fun''s
%% answer, and how long each batch took.
beside_batches(S, Size, Fun) ->
    ok = w(S, #{<<"k">> => <<"v">>}),
    Parent = self(),
    Batch = fun(Round) -> maps:from_list(
        [{iolist_to_binary(["b/", integer_to_list(Round), "/", integer_to_list(J)]), <<"v">>}
         || J <- lists:seq(1, Size)]) end,
    Writer = spawn_link(fun() -> batches(S, Batch, Parent, 0, []) end),
    receive batching -> ok end,
    Answer = Fun(),
    Writer ! stop,
    Batches = receive {batches, Took} -> Took after 60000 -> error(batches_never_ended) end,
    {Answer, Batches}.

%% Applies batches back to back until told to stop, then reports how long
%% each took; says `batching' once the first is done.
batches(S, Batch, Parent, Round, Took) ->
    T0 = erlang:monotonic_time(microsecond),
    ok = w(S, Batch(Round)),
    All = [erlang:monotonic_time(microsecond) - T0 | Took],
    Round == 0 andalso (Parent ! batching),
    receive
        stop -> Parent ! {batches, All}
    after 0 ->
        batches(S, Batch, Parent, Round + 1, All)
    end.

scope_is_local_test() ->
    ?assertEqual(local, ?M:scope()),
    ?assertEqual(local, ?M:scope(store())).

%%% The API before 2026.

the_older_api_test() ->
    S = store(),
    ?assertMatch({ok, _}, ?M:start(S)),
    ?assertEqual(ok, ?M:write(S, <<"msg/body">>, <<"hello">>)),
    ?assertEqual({ok, <<"hello">>}, ?M:read(S, <<"msg/body">>)),
    ?assertEqual(not_found, ?M:read(S, <<"msg">>)),
    ?assertEqual(not_found, ?M:read(S, <<"nothing">>)),
    ?assertEqual(composite, ?M:type(S, <<"msg">>)),
    ?assertEqual(simple, ?M:type(S, <<"msg/body">>)),
    ?assertEqual(not_found, ?M:type(S, <<"nothing">>)),
    ?assertEqual(ok, ?M:make_group(S, <<"empty">>)),
    ?assertEqual(ok, ?M:make_link(S, <<"msg">>, <<"latest">>)),
    ?assertEqual({ok, <<"hello">>}, ?M:read(S, [<<"latest">>, <<"body">>])),
    ?assertEqual({ok, [<<"body">>]}, ?M:list(S, <<"latest">>)),
    ?assertEqual(<<"msg/body">>, ?M:resolve(S, <<"latest/body">>)),
    ?assertEqual(<<"a/b">>, ?M:path(S, [<<"a">>, <<"b">>])),
    ?assertEqual(<<"a/b/c">>, ?M:add_path(S, <<"a/b">>, [<<"c">>])),
    ?assertEqual(ok, ?M:reset(S)),
    ?assertEqual(not_found, ?M:read(S, <<"msg/body">>)),
    ?assertEqual(ok, ?M:stop(S)).

%% The shapes hb_cache matches on: never an error tuple where it expects an
%% atom, and an exception (so that hb_store tries the next store) for a
%% store that fails rather than refuses.
the_older_api_answers_in_the_shapes_its_callers_match_test() ->
    S = store(),
    ok = ?M:write(S, <<"v">>, <<"value">>),
    [?assertEqual(not_found, ?M:read(S, Bad)) || Bad <- [<<"a/../b">>, foo, [<<"a">>, 7]]],
    [?assertEqual(not_found, ?M:type(S, Bad)) || Bad <- [<<"a/../b">>, foo]],
    ?assertEqual(not_found, ?M:list(S, <<"v">>)),
    ?assertEqual(not_found, ?M:list(S, <<"nothing">>)),
    ok = ?M:make_link(S, <<"loop2">>, <<"loop1">>),
    ok = ?M:make_link(S, <<"loop1">>, <<"loop2">>),
    ?assertEqual(not_found, ?M:read(S, <<"loop1">>)),
    ?assertEqual(not_found, ?M:type(S, <<"loop1">>)),
    ?assertMatch({error, {not_a_group, _}}, ?M:write(S, <<"v/below">>, <<"x">>)),
    ok = ?M:stop(S),
    % A cluster that cannot be reached: a failure, raised.
    Down = #{<<"store-module">> => ?M, <<"cluster">> => <<"redis://127.0.0.1:1">>,
        <<"deadline-ms">> => 300},
    ?assertError({hbstore_failure, _}, ?M:read(Down, <<"k">>)),
    ?assertError({hbstore_failure, _}, ?M:type(Down, <<"k">>)),
    ?assertError({hbstore_failure, _}, ?M:write(Down, <<"k">>, <<"v">>)),
    % The current API answers the same failure as a term.
    ?assertMatch({failure, _}, ?M:read(Down, #{<<"read">> => <<"k">>}, #{})).

%% A store message that is not a map, or names no store: an answer from
%% every callback, never an exception.
a_store_message_that_is_not_a_store_gets_an_answer_test() ->
    Broken = [not_a_map, 42, <<"name">>, #{}, #{<<"name">> => <<>>}, #{<<"cluster">> => 7}],
    [begin
        ?assertMatch({error, _}, ?M:read(B, #{<<"read">> => <<"k">>}, #{})),
        ?assertMatch({error, _}, ?M:write(B, #{<<"k">> => <<"v">>}, #{})),
        ?assertMatch({error, _}, ?M:link(B, #{<<"k">> => <<"t">>}, #{})),
        ?assertMatch({error, _}, ?M:group(B, #{<<"group">> => <<"g">>}, #{})),
        ?assertMatch({error, _}, ?M:type(B, #{<<"type">> => <<"k">>}, #{})),
        ?assertMatch({error, _}, ?M:list(B, #{<<"list">> => <<"k">>}, #{})),
        ?assertMatch({error, _}, ?M:resolve(B, #{<<"resolve">> => <<"k">>}, #{})),
        ?assertMatch({error, _}, ?M:match(B, #{<<"k">> => <<"t">>}, #{})),
        ?assertMatch({error, _}, ?M:reset(B, #{}, #{})),
        ?assertMatch({error, _}, ?M:start(B, #{}, #{})),
        ?assertEqual(ok, ?M:stop(B, #{}, #{})),
        ?assertEqual(not_found, ?M:read(B, <<"k">>)),
        ?assertEqual(not_found, ?M:type(B, <<"k">>))
     end || B <- Broken].

%%% Hostile input: an answer, never an exception.

hostile_input_gets_an_answer_test_() ->
    ?WITH_STORE(fun(S) ->
        ?assertMatch({error, {badarg, _}}, w(S, #{<<"k">> => 42})),
        ?assertMatch({error, {badarg, _}}, w(S, #{<<"k">> => an_atom})),
        ?assertMatch({error, {invalid_path, foo, _}}, r(S, foo)),
        ?assertMatch({error, {invalid_path, _, _}}, w(S, #{<<"a\0b">> => <<"v">>})),
        ?assertMatch({error, {invalid_path, _, _}}, r(S, <<"a/../b">>)),
        ?assertMatch({error, {invalid_path, _, _}}, w(S, #{<<"/">> => <<"root">>})),
        ?assertMatch({error, {invalid_path, _, _}}, r(S, [<<"a">>, 7])),
        ?assertMatch({error, {invalid_path, _, _}}, r(S, <<255, 254>>)),
        ?assertEqual(ok, w(S, #{})),
        ?assertEqual(ok, lnk(S, #{})),
        ?assertMatch({error, {badarg, _}}, ?M:read(S, #{}, #{})),
        ?assertMatch({error, {badarg, _}}, ?M:read(S, not_a_map, #{})),
        ?assertMatch({error, {badarg, _}}, ?M:group(S, #{<<"wrong">> => <<"x">>}, #{})),
        ?assertMatch({error, {badarg, _}}, ?M:match(S, 42, #{})),
        ?assertEqual({error, not_found},
            ?M:read(S, #{<<"read">> => <<"k">>, <<"unknown-key">> => 1}, #{})),
        ok = w(S, #{<<"k">> => <<"v">>}),
        [?assertEqual({ok, <<"v">>}, ?M:read(S, #{<<"read">> => <<"k">>, <<"read-values">> => N}, #{}))
            || N <- [1 bsl 70, -1, <<"x">>, false]],
        Big = binary:copy(<<"x">>, 64 * 1024 * 1024),
        ?assertEqual(ok, w(S, #{<<"big">> => Big})),
        {ok, Back} = r(S, <<"big">>),
        ?assertEqual(byte_size(Big), byte_size(Back)),
        ?assertMatch({error, {badarg, _}}, ?M:start(#{<<"store-module">> => ?M}, #{}, #{})),
        ?assertMatch({error, {badarg, _}}, r(#{<<"store-module">> => ?M, <<"name">> => 7}, <<"k">>)),
        % A path whose segment is invalid is refused whole, with the path.
        ?assertMatch({error, {is_group, <<"big2">>}},
            begin ok = w(S, #{<<"big2/x">> => <<"1">>}), w(S, #{<<"big2">> => <<"v">>}) end)
    end).

a_store_that_is_not_a_store_is_refused_test() ->
    Dir = fresh_dir(),
    ok = file:make_dir(Dir),
    ok = file:write_file(filename:join(Dir, "not-a-store.txt"), <<"hello">>),
    S = #{<<"store-module">> => ?M, <<"name">> => Dir},
    ?assertMatch({error, {not_a_store, _, _}}, ?M:start(S, #{}, #{})),
    ?assertMatch({error, {not_a_store, _, _}}, r(S, <<"k">>)).

%%% Concurrency: many processes, no process in between.

many_processes_write_and_read_at_once_test_() ->
    {"100 processes write and read at once", {timeout, 120, fun() ->
        S = store(),
        Parent = self(),
        Pids = [spawn_link(fun() ->
            Keys = [iolist_to_binary(io_lib:format("p~B/k~B", [P, I])) || I <- lists:seq(1, 200)],
            [ok = w(S, #{K => K}) || K <- Keys],
            Missing = [K || K <- Keys, r(S, K) =/= {ok, K}],
            Parent ! {self(), Missing}
        end) || P <- lists:seq(1, 100)],
        Results = [receive {Pid, Missing} -> Missing after 60000 -> timeout end || Pid <- Pids],
        ?assertEqual(lists:duplicate(100, []), Results),
        {ok, Groups} = l(S, #{<<"list">> => <<"">>}),
        ?assertEqual(100, length(Groups)),
        ok = ?M:stop(S, #{}, #{})
    end}}.

%%% Memory: a million calls leave the VM's memory flat.

a_million_calls_leave_memory_flat_test_() ->
    {"a million calls leave memory flat", {timeout, 300, fun() ->
        S = store(),
        ok = w(S, #{<<"k">> => binary:copy(<<"v">>, 100)}),
        Round = fun() -> [{ok, _} = r(S, <<"k">>) || _ <- lists:seq(1, 100000)], ok end,
        Round(),
        erlang:garbage_collect(),
        {VmBefore, RssBefore} = {erlang:memory(total), resident_bytes()},
        [Round() || _ <- lists:seq(1, 10)],
        erlang:garbage_collect(),
        % The VM's own memory, and the process's resident memory, which
        % also counts what the NIF allocates outside the VM's allocators.
        ?assert(erlang:memory(total) - VmBefore < 8 * 1024 * 1024),
        ?assert(resident_bytes() - RssBefore < 32 * 1024 * 1024),
        ok = ?M:stop(S, #{}, #{})
    end}}.

%%% A killed VM loses no acknowledged write.

a_killed_vm_loses_no_acknowledged_write_test_() ->
    {"a VM killed with kill -9 loses no acknowledged write", {timeout, 120, fun() ->
        S = store(),
        Name = maps:get(<<"name">>, S),
        Ebin = filename:dirname(code:which(?M)),
        % The child writes key after key and prints each one once its write
        % returned ok; it is killed (SIGKILL) while still writing.
        Script = io_lib:format(
            "S = #{<<\"store-module\">> => hb_store_hbstore, <<\"name\">> => <<\"~s\">>},"
            " W = fun W(I) -> K = integer_to_binary(I),"
            " ok = hb_store_hbstore:write(S, #{<<\"k/\", K/binary>> => K}, #{}),"
            " io:format(\"ack ~~B~~n\", [I]), W(I + 1) end, W(1).",
            [Name]),
        Port = open_port({spawn_executable, os:find_executable("erl")},
            [{args, ["-noshell", "-pa", Ebin, "-eval", lists:flatten(Script)]},
                {line, 256}, exit_status, binary]),
        {os_pid, OsPid} = erlang:port_info(Port, os_pid),
        Acked = collect_acks(Port, 0, 3000),
        os:cmd("kill -9 " ++ integer_to_list(OsPid)),
        wait_exit(Port),
        ?assert(Acked >= 3000),
        Missing = [I || I <- lists:seq(1, Acked),
            r(S, <<"k/", (integer_to_binary(I))/binary>>) =/= {ok, integer_to_binary(I)}],
        ?assertEqual([], Missing),
        ok = ?M:stop(S, #{}, #{})
    end}}.

collect_acks(Port, Last, Until) when Last >= Until -> drain_acks(Port, Last);
collect_acks(Port, Last, Until) ->
    receive
        {Port, {data, {eol, <<"ack ", N/binary>>}}} -> collect_acks(Port, binary_to_integer(N), Until);
        {Port, {data, _Other}} -> collect_acks(Port, Last, Until);
        {Port, {exit_status, Status}} -> error({child_exited, Status, Last})
    after 60000 -> error({child_silent, Last})
    end.

%% Acknowledgements already printed count too: they were acknowledged.
drain_acks(Port, Last) ->
    receive
        {Port, {data, {eol, <<"ack ", N/binary>>}}} -> drain_acks(Port, binary_to_integer(N))
    after 0 -> Last
    end.

wait_exit(Port) ->
    receive
        {Port, {exit_status, _}} -> ok;
        {Port, _} -> wait_exit(Port)
    after 10000 -> ok
    end.

%% The resident memory of this OS process, from /proc (Linux).
resident_bytes() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kib]} = re:run(Status, "VmRSS:\\s+([0-9]+) kB", [{capture, all_but_first, binary}]),
    binary_to_integer(Kib) * 1024.

%%% Monitoring: metrics/1 and metrics_text/1.

metrics_count_this_nodes_operations_test() ->
    S = store(),
    ok = w(S, #{<<"m/a">> => <<"1">>, <<"m/b">> => <<"2">>}),
    [{ok, _} = r(S, <<"m/a">>) || _ <- lists:seq(1, 10)],
    {error, not_found} = r(S, <<"nothing">>),
    {ok, Metrics} = ?M:metrics(S),
    #{<<"hbstore_operations_total">> := #{type := counter, help := Help, samples := Samples}} = Metrics,
    ?assert(is_binary(Help)),
    Count = fun(Op, Outcome) ->
        [V] = [V || {<<"hbstore_operations_total">>, #{<<"operation">> := O, <<"outcome">> := R}, V}
                        <- Samples, O =:= Op, R =:= Outcome],
        V
    end,
    ?assertEqual(10, Count(<<"read">>, <<"found">>)),
    ?assertEqual(1, Count(<<"read">>, <<"absent">>)),
    ?assertEqual(1, Count(<<"batch">>, <<"done">>) + Count(<<"write">>, <<"done">>)),
    #{<<"hbstore_operation_duration_seconds">> := #{type := histogram}} = Metrics,
    #{<<"hbstore_disk_bytes">> := #{type := gauge, samples := Disk}} = Metrics,
    ?assert(lists:all(fun({_, _, V}) -> is_integer(V) andalso V >= 0 end, Disk)),
    #{<<"hbstore_memory_budget_bytes">> := #{samples := [_ | _]}} = Metrics,
    ok = ?M:stop(S, #{}, #{}).

metrics_text_is_valid_prometheus_text_test() ->
    S = store(),
    ok = w(S, #{<<"k">> => <<"v">>}),
    {ok, <<"v">>} = r(S, <<"k">>),
    {ok, Text} = ?M:metrics_text(S),
    Samples = parse_exposition(Text),
    ?assert(length(Samples) > 100),
    ?assertMatch([_], [V || {<<"hbstore_operations_total">>, L, V} <- Samples,
                            lists:member({<<"operation">>, <<"read">>}, L),
                            lists:member({<<"outcome">>, <<"found">>}, L), V >= 1]),
    ?assertMatch([_ | _], [S1 || S1 = {<<"hbstore_compaction_pending_bytes">>, _, _} <- Samples]),
    ?assertMatch([_ | _], [S1 || S1 = {<<"hbstore_write_stall_seconds_total">>, _, _} <- Samples]),
    ok = ?M:stop(S, #{}, #{}).

metrics_of_something_that_is_not_a_store_are_an_error_test() ->
    ?assertMatch({error, _}, ?M:metrics(not_a_map)),
    ?assertMatch({error, _}, ?M:metrics_text(#{<<"store-module">> => ?M})),
    ?assertMatch({error, _}, ?M:metrics(#{<<"name">> => 42})).

%% Prometheus' text format (0.0.4), strictly: every line a `# HELP', a
%% `# TYPE' or a sample of a family typed before it; each histogram's
%% buckets cumulative, ending in `+Inf', and equal to its `_count'.
%% Answers the samples as `{Name, [{Label, Value}], Number}'.
parse_exposition(Text) ->
    ?assertEqual($\n, binary:last(Text)),
    Lines = binary:split(Text, <<"\n">>, [global, trim]),
    {Types, Samples} = lists:foldl(fun parse_line/2, {#{}, []}, Lines),
    Ordered = lists:reverse(Samples),
    [check_histogram(Family, Ordered) || {Family, histogram} <- maps:to_list(Types)],
    Ordered.

parse_line(<<"# HELP ", Rest/binary>>, Acc) ->
    [Name, Help] = binary:split(Rest, <<" ">>),
    ?assert(valid_name(Name)), ?assert(byte_size(Help) > 0),
    Acc;
parse_line(<<"# TYPE ", Rest/binary>>, {Types, Samples}) ->
    [Name, Type] = binary:split(Rest, <<" ">>),
    ?assert(valid_name(Name)),
    ?assert(lists:member(Type, [<<"counter">>, <<"gauge">>, <<"histogram">>])),
    ?assertNot(maps:is_key(Name, Types)),
    {Types#{Name => binary_to_atom(Type, utf8)}, Samples};
parse_line(Line, {Types, Samples}) ->
    {match, [Name, LabelText, Value]} =
        re:run(Line, "^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$",
               [{capture, all_but_first, binary}]),
    ?assert(typed(Name, Types)),
    Labels = parse_labels(LabelText),
    {Types, [{Name, Labels, parse_number(Value)} | Samples]}.

typed(Name, Types) ->
    maps:is_key(Name, Types) orelse
        lists:any(fun(Suffix) ->
                      Size = byte_size(Name) - byte_size(Suffix),
                      Size > 0 andalso binary:part(Name, Size, byte_size(Suffix)) =:= Suffix
                          andalso maps:get(binary:part(Name, 0, Size), Types, none) =:= histogram
                  end, [<<"_bucket">>, <<"_sum">>, <<"_count">>]).

parse_labels(<<>>) -> [];
parse_labels(Text) ->
    {match, Pairs} = re:run(Text, "([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"(,|$)",
                            [global, {capture, [1, 2], binary}]),
    Rebuilt = iolist_to_binary(lists:join(<<",">>, [[K, <<"=\"">>, V, <<"\"">>] || [K, V] <- Pairs])),
    ?assertEqual(Text, Rebuilt),
    [{K, V} || [K, V] <- Pairs].

parse_number(<<"+Inf">>) -> infinity;
parse_number(<<"NaN">>) -> nan;
parse_number(Text) ->
    try binary_to_integer(Text) catch error:badarg -> binary_to_float(Text) end.

valid_name(Name) ->
    re:run(Name, "^[a-zA-Z_:][a-zA-Z0-9_:]*$") =/= nomatch.

check_histogram(Family, Samples) ->
    Bucket = <<Family/binary, "_bucket">>,
    Series = lists:usort([lists:keydelete(<<"le">>, 1, L) || {N, L, _} <- Samples, N =:= Bucket]),
    ?assert(Series =/= []),
    [begin
         Counts = [{proplists:get_value(<<"le">>, L), V}
                   || {N, L, V} <- Samples, N =:= Bucket, lists:keydelete(<<"le">>, 1, L) =:= Rest],
         {Les, Values} = lists:unzip(Counts),
         ?assertEqual(<<"+Inf">>, lists:last(Les)),
         Bounds = [binary_to_number(B) || B <- lists:droplast(Les)],
         ?assertEqual(Bounds, lists:usort(Bounds)),
         ?assertEqual(Values, lists:sort(Values)),
         [Count] = [V || {N, L, V} <- Samples, N =:= <<Family/binary, "_count">>, L =:= Rest],
         ?assertEqual(lists:last(Values), Count),
         ?assertMatch([_], [V || {N, L, V} <- Samples, N =:= <<Family/binary, "_sum">>, L =:= Rest])
     end || Rest <- Series].

binary_to_number(B) ->
    try binary_to_integer(B) catch error:badarg -> binary_to_float(B) end.

%%% Durability: process (the default), sync, buffered.

buffered_durability_keeps_what_a_stop_flushes_test() ->
    S = store(#{<<"durability">> => <<"buffered">>, <<"flush-ms">> => 3600000}),
    Keys = [integer_to_binary(I) || I <- lists:seq(1, 500)],
    [ok = w(S, #{<<"k/", K/binary>> => K}) || K <- Keys],
    % Nothing has been handed to the OS yet (an hour's interval); stop does.
    ok = ?M:stop(S, #{}, #{}),
    ?assertEqual([], [K || K <- Keys, r(S, <<"k/", K/binary>>) =/= {ok, K}]),
    ok = ?M:stop(S, #{}, #{}).

durability_options_are_checked_test() ->
    [begin
         S = store(Options),
         ?assertEqual(ok, w(S, #{<<"k">> => <<"v">>}), Options),
         ?assertEqual({ok, <<"v">>}, r(S, <<"k">>)),
         ok = ?M:stop(S, #{}, #{})
     end || Options <- [#{<<"durability">> => process}, #{<<"durability">> => <<"sync">>},
                        #{<<"durability">> => buffered}, #{<<"sync">> => true},
                        #{<<"durability">> => <<"buffered">>, <<"flush-ms">> => 5},
                        #{<<"sync">> => true, <<"durability">> => sync}]],
    [?assertMatch({error, {badarg, _}}, w(store(Bad), #{<<"k">> => <<"v">>}))
     || Bad <- [#{<<"durability">> => fast}, #{<<"durability">> => 1},
                #{<<"durability">> => buffered, <<"flush-ms">> => 0},
                #{<<"durability">> => buffered, <<"flush-ms">> => <<"100">>},
                #{<<"flush-ms">> => 100},
                #{<<"durability">> => sync, <<"flush-ms">> => 100},
                #{<<"sync">> => true, <<"durability">> => buffered}]].

a_store_open_with_another_durability_is_refused_test() ->
    S = store(),
    ok = w(S, #{<<"k">> => <<"v">>}),
    Other = S#{<<"durability">> => buffered},
    ?assertMatch({error, {open_with_other_options, _,
                          [<<"durability: open with process, asked for buffered (flush-ms 100)">>]}},
                 ?M:start(Other, #{}, #{})),
    ok = ?M:stop(S, #{}, #{}).
