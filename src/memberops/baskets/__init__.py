"""Dish combinations: frequent itemsets and association rules over counted orders.

>>> from memberops.baskets import frequent_itemsets, association_rules
>>> itemsets = frequent_itemsets(lines, min_support=0.01)  # doctest: +SKIP
>>> rules = association_rules(itemsets, min_threshold=0.3)  # doctest: +SKIP
"""

from memberops.baskets.mining import association_rules, frequent_itemsets

__all__ = ["association_rules", "frequent_itemsets"]
