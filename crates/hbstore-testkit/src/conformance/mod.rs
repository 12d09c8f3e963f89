//! The conformance suite, written once from `docs/contract.md` and run on
//! every backend: [`contract`] row by row, [`queries`] for the operations of
//! HyperBEAM's current store API (`list_range`, `read_entry`, `match`),
//! [`hyperbeam`] for what HyperBEAM's own store tests rely on.
//!
//! A backend's test binary instantiates it with [`conformance_suite!`],
//! giving an expression that opens a fresh, empty store (anything that
//! dereferences to a `Store`, so a temporary directory or a cluster
//! namespace can be dropped with it).
//!
//! [`conformance_suite!`]: crate::conformance_suite

// A case's name is a sentence of the contract, and its documentation.
#[allow(missing_docs)]
pub mod contract;
#[allow(missing_docs)]
pub mod hyperbeam;
#[allow(missing_docs)]
pub mod queries;
pub mod support;

/// Instantiates every case of the conformance suite as a `#[test]`, in
/// modules `contract`, `queries` and `hyperbeam` of the calling module.
/// `$open` is evaluated once per case, inside those modules, so it must
/// name what it uses by absolute path (`crate::...`).
#[macro_export]
macro_rules! conformance_suite {
    ($open:expr) => {
        $crate::conformance_module!(
            $open,
            contract,
            [
                string_and_list_forms_name_the_same_entry,
                empty_segments_are_dropped,
                invalid_segments_are_rejected_by_every_operation,
                a_path_of_8_kib_is_accepted_and_one_byte_more_is_not,
                the_root_is_an_implicit_group,
                the_root_is_never_written_linked_or_deleted,
                write_then_read,
                write_replaces_a_value,
                read_of_a_missing_path_is_nothing,
                read_of_a_group_is_nothing,
                write_creates_missing_ancestors_as_groups,
                write_on_a_group_is_is_group,
                write_under_a_value_is_not_a_group,
                values_may_be_empty_or_binary,
                type_tells_simple_composite_or_nothing,
                list_is_sorted_by_byte_order,
                list_names_values_groups_and_links_alike,
                list_holds_children_not_grandchildren,
                list_of_a_missing_path_is_nothing,
                list_of_a_value_is_not_a_group,
                list_of_the_root_lists_the_top_level,
                make_group_creates_every_level,
                make_group_on_a_group_keeps_its_contents,
                make_group_on_a_value_is_not_a_group,
                make_group_under_a_value_is_not_a_group,
                make_link_reads_through_to_the_target,
                make_link_stores_the_target_in_canonical_form,
                make_link_to_a_missing_target_is_allowed,
                make_link_with_the_same_path_on_both_sides_stores_nothing,
                make_link_again_to_the_same_target_succeeds,
                make_link_over_a_group_is_already_exists_and_changes_nothing,
                make_link_over_a_link_re_points_it,
                make_link_over_a_value_replaces_it,
                make_link_creates_the_parent_groups,
                make_link_resolves_the_parent_but_not_the_final_segment,
                make_link_under_a_value_is_not_a_group,
                resolve_follows_links_in_the_middle_of_a_path,
                resolve_follows_the_final_segment,
                resolve_keeps_absent_segments,
                resolve_follows_chains_of_links,
                a_link_to_the_root_resolves_to_the_root,
                link_loops_fail_with_link_loop_and_never_hang,
                forty_hops_resolve_and_forty_one_do_not,
                write_through_a_link_to_a_group_lands_in_the_group,
                write_over_a_link_to_a_value_replaces_the_link_not_the_target,
                write_over_a_dangling_link_replaces_the_link,
                write_over_a_link_to_a_group_replaces_the_link,
                a_batch_can_re_point_and_replace_links,
                type_and_list_follow_links,
                delete_removes_a_value_and_says_so,
                delete_of_a_missing_path_removes_nothing,
                delete_of_a_link_removes_the_link_not_the_target,
                delete_of_a_non_empty_group_is_not_empty_unless_recursive,
                delete_recursive_removes_the_whole_subtree,
                delete_resolves_the_parent,
                reset_empties_the_store_and_it_stays_usable,
                path_and_add_path_join_without_the_store,
                a_batch_is_all_or_nothing,
                a_batch_sees_its_earlier_operations,
                a_batch_can_delete_and_recreate,
                a_group_replaced_by_a_value_in_a_batch_is_a_value_afterwards,
                an_empty_batch_does_nothing,
                errors_name_the_path
            ]
        );
        $crate::conformance_module!(
            $open,
            queries,
            [
                list_range_from_is_inclusive_going_up,
                list_range_from_is_inclusive_going_down,
                list_range_from_need_not_exist,
                list_range_limit_caps_the_page,
                list_range_pages_walk_a_group_in_both_directions,
                list_range_of_an_empty_group_is_empty_and_of_nothing_is_nothing,
                list_range_follows_links_and_reports_link_children,
                list_range_of_a_value_is_not_a_group,
                read_entry_of_a_value_is_its_bytes,
                read_entry_of_a_group_gives_children_with_small_values_and_link_targets,
                read_entry_follows_links_and_of_nothing_is_nothing,
                read_entry_of_an_empty_group_and_of_the_root,
                read_message_inlines_the_small_values_its_links_point_at,
                match_finds_groups_whose_child_links_to_the_target,
                match_with_two_pairs_intersects,
                match_with_no_pair_matches_nothing,
                match_with_a_pair_nobody_has_matches_nothing,
                match_follows_relinking,
                match_follows_a_re_pointed_link,
                match_forgets_a_link_replaced_by_a_value,
                match_forgets_deleted_messages,
                match_forgets_everything_after_reset,
                match_sees_links_made_in_batches_and_through_links,
                match_ignores_values_and_groups_named_like_the_key,
                match_limit_caps_the_answer,
                match_keys_must_be_one_segment
            ]
        );
        $crate::conformance_module!(
            $open,
            hyperbeam,
            [
                a_written_key_reads_back,
                a_missing_key_reads_as_nothing,
                reads_follow_a_link,
                reads_follow_a_chain_of_two_links,
                a_file_reads_through_a_link_to_its_group,
                writing_a_message_key_creates_its_group,
                make_group_creates_each_level_and_each_lists_its_child,
                make_group_on_a_non_empty_group_keeps_it,
                type_through_links_is_the_target_type,
                resolve_of_a_path_written_under_a_link_is_physical,
                reset_empties_the_store,
                a_link_made_again_points_at_the_new_target
            ]
        );
    };
}

/// One module of [`conformance_suite!`]: a `#[test]` per case.
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_module {
    ($open:expr, $module:ident, [$($case:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $case() {
                    let store = $open;
                    $crate::conformance::$module::$case(&*store);
                }
            )*
        }
    };
}
